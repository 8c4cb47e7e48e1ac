"""Per-epoch wall and CPU seconds, for a Keras callback of either Keras (3, or 2 via tf_keras).

Mix it in before the callback base class: ``class EpochTimer(EpochTimes, keras.callbacks.Callback)``.
"""

import time


class EpochTimes:
    """Records ``wall`` and ``cpu``: seconds per epoch (lists, one entry per finished epoch)."""

    def __init__(self):
        super().__init__()
        self.wall, self.cpu = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.wall.append(time.perf_counter() - self._wall)
        self.cpu.append(time.process_time() - self._cpu)
