"""Train a :class:`~vaelib.model.VAE` reproducibly, keeping the best-validation weights."""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import asdict, dataclass

import keras
import numpy as np

from vaelib.model import VAE
from vaelib.params import ParameterError, positive_int


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; nothing was saved."""


@dataclass(frozen=True)
class TrainingConfig:
    """How to train. The defaults are the seed notebook's settings.

    ``hidden_units`` are the encoder's layer widths (the decoder mirrors them), ``activation`` their
    activation; ``kl_weight`` multiplies the mean KL term (1/784 puts it on the per-pixel scale of
    the binary cross-entropy); ``optimizer`` is a Keras optimizer name and ``learning_rate`` its
    step size (Keras default 0.001). The decoder's sigmoid output and the binary cross-entropy are
    fixed: together they are the Bernoulli model of the pixels that the theory chapter derives. The last two fields are about the
    engine, never about what is taught (the book's Performance appendix measures them):

    * ``jit_compile``: compile the training step with XLA, which fuses the many small elementwise
      ops of a step (the book's Performance appendix measures the gain per epoch on 2 CPU cores;
      compiling costs about 4 s in the first epoch). ``"auto"`` (default): on when there is no GPU and ``epochs`` is at least
      :data:`XLA_MIN_EPOCHS`; off with a GPU, where XLA does not promise deterministic kernels.
      XLA rounds differently and draws the sampling noise with its own generator, so the losses
      differ slightly (about 1e-3) from a run without it, but
      they are reproducible either way. ``history["xla"]`` says whether it was used.
    * ``deterministic``: the same seed gives bit-identical losses. Without XLA, TensorFlow is asked
      for deterministic kernels (``enable_op_determinism``); with XLA on a CPU the generated code is
      deterministic by itself, and op determinism must stay off, since Keras refuses XLA under it.
      ``False`` is only there to measure what determinism costs.
    """

    epochs: int = 100
    batch_size: int = 128
    codings_size: int = 16
    hidden_units: tuple[int, ...] = (256, 128, 64)
    activation: str = "selu"
    kl_weight: float = 1.0 / 784
    optimizer: str = "rmsprop"
    learning_rate: float = 0.001
    seed: int = 42
    jit_compile: bool | str = "auto"
    deterministic: bool = True

    def __post_init__(self):
        for name in ("epochs", "batch_size", "codings_size"):
            object.__setattr__(self, name, positive_int(getattr(self, name), name))
        if not isinstance(self.hidden_units, (tuple, list)):
            raise ParameterError(f"hidden_units={self.hidden_units!r} must be a list of layer widths, "
                                 "for example (256, 128, 64).")
        units = tuple(positive_int(u, "hidden_units") for u in self.hidden_units)
        if not units:
            raise ParameterError("hidden_units is empty; give at least one layer width.")
        object.__setattr__(self, "hidden_units", units)
        if not (isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < math.inf):
            raise ParameterError(f"learning_rate={self.learning_rate!r} must be a number > 0.")
        if not (isinstance(self.kl_weight, (int, float)) and 0 <= self.kl_weight < math.inf):
            raise ParameterError(f"kl_weight={self.kl_weight!r} must be a number >= 0.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or not 0 <= self.seed < 2**32:
            raise ParameterError(f"seed={self.seed!r} must be a whole number from 0 to 2**32 - 1.")
        try:
            keras.activations.get(self.activation)
        except ValueError:
            raise ParameterError(f"activation={self.activation!r} is not a Keras activation name "
                                 "(for example 'selu', 'relu', 'elu').") from None
        try:
            if not isinstance(self.optimizer, str):
                raise ValueError
            keras.optimizers.get(self.optimizer)
        except ValueError:
            raise ParameterError(f"optimizer={self.optimizer!r} is not a Keras optimizer name "
                                 "(for example 'rmsprop', 'adam', 'sgd').") from None
        if not (isinstance(self.jit_compile, bool) or self.jit_compile == "auto"):
            raise ParameterError(f"jit_compile={self.jit_compile!r} must be True, False or 'auto'.")
        if not isinstance(self.deterministic, bool):
            raise ParameterError(f"deterministic={self.deterministic!r} must be True or False.")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["hidden_units"] = list(self.hidden_units)
        return out


class KeepBestWeights(keras.callbacks.Callback):
    """Remember the weights of the epoch with the lowest ``val_loss``; restore them at the end.

    This is what the seed's ``ModelCheckpoint(save_best_only=True)`` meant to do, without writing
    the model to disk every time the loss improves. ``best_epoch`` is 1-based.
    """

    def __init__(self):
        super().__init__()
        self.best_loss = math.inf
        self.best_epoch = 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("val_loss", math.inf)
        if loss < self.best_loss:
            self.best_loss, self.best_epoch = loss, epoch + 1
            self.best_weights = [w.copy() for w in self.model.get_weights()]

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raise :class:`TrainingDivergedError` as soon as an epoch's loss is NaN or infinite."""

    def on_epoch_end(self, epoch, logs=None):
        for key in ("loss", "val_loss"):
            value = (logs or {}).get(key)
            if value is not None and not math.isfinite(value):
                raise TrainingDivergedError(
                    f"Training diverged: {key} is {value} at epoch {epoch + 1}. Nothing was saved, "
                    "so an earlier run in run_dir is untouched. Lower the learning rate, or check "
                    "that pixels are scaled to [0, 1]."
                )


class EpochPrinter(keras.callbacks.Callback):
    """Print one short line every ``every`` epochs (and the last): no progress-bar spam."""

    def __init__(self, every: int = 10):
        super().__init__()
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        total = self.params.get("epochs", 0)
        if (epoch + 1) % self.every == 0 or epoch + 1 == total:
            logs = logs or {}
            print(f"epoch {epoch + 1:>3}/{total}  loss {logs.get('loss', float('nan')):.4f}  "
                  f"val_loss {logs.get('val_loss', float('nan')):.4f}")


def check_training_images(images, name: str) -> np.ndarray:
    """float32 ``(n, 28, 28)``, finite, in ``[0, 1]``, at least one image; else a clear error."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) == 0:
        raise ValueError(f"{name} must have shape (n, 28, 28) with n > 0, got {images.shape}.")
    images = images.astype(np.float32, copy=False)
    if not np.isfinite(images).all():
        raise ValueError(f"{name} contains NaN or infinite pixels; clean the data before training.")
    if images.min() < 0 or images.max() > 1:
        raise ValueError(f"{name} has pixels outside [0, 1]; divide uint8 images by 255.")
    return images


def set_determinism(seed: int, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy and the backend; switch TensorFlow's deterministic kernels on or off.

    Op determinism is process-wide. Turning it off uses TensorFlow's internal switch (there is no
    public one); it is needed before an XLA training because Keras refuses XLA while it is on.
    """
    keras.utils.set_random_seed(seed)
    if keras.config.backend() != "tensorflow":
        return
    import tensorflow as tf

    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()
    else:
        from tensorflow.python.framework import config as tf_config

        if tf_config.is_op_determinism_enabled():
            tf_config.disable_op_determinism()


#: ``jit_compile="auto"`` uses XLA from this many epochs on: compiling costs about 4 s (2 CPU
#: cores), which a few epochs do not win back.
XLA_MIN_EPOCHS = 10


def use_xla(config: TrainingConfig) -> bool:
    """Resolve ``config.jit_compile``: ``"auto"`` means XLA on a CPU-only TensorFlow machine when
    training for at least :data:`XLA_MIN_EPOCHS` epochs."""
    if config.jit_compile != "auto":
        return config.jit_compile
    if keras.config.backend() != "tensorflow" or config.epochs < XLA_MIN_EPOCHS:
        return False
    import tensorflow as tf

    return not any(d.device_type != "CPU" for d in tf.config.list_physical_devices())


def every_epoch_dataset(images: np.ndarray):
    """A ``tf.data.Dataset`` whose every element is ``images`` itself, ``(n, 28, 28)``, forever.

    tf.data's autotuning is off: it has nothing to tune in a pipeline that hands over one tensor,
    and Keras drops the validation iterator after every epoch (``evaluate`` resets it), whose
    autotuning thread then held up the epoch's end until its next wake-up: about a quarter of a
    second in most epochs, 40% of an epoch's time at the seed's settings on 2 cores.
    """
    import tensorflow as tf

    return _untuned(tf.data.Dataset.from_tensors(images).repeat())


def _untuned(dataset):
    """``dataset`` with tf.data's autotuning off (see :func:`every_epoch_dataset`)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def epoch_batches(model: VAE, images: np.ndarray, batch_size: int, epochs: int):
    """A ``tf.data.Dataset`` of every epoch's batches ``(<= batch_size, 28, 28)``, one per step, in
    the order :meth:`VAE.epoch_order <vaelib.model.VAE.epoch_order>` gives each epoch: the batches
    that the compiled epoch of ``train_vae`` cuts in the graph, for training without XLA."""
    import tensorflow as tf

    count, steps = len(images), -(-len(images) // batch_size)
    orders = tf.data.Dataset.range(epochs).flat_map(
        lambda epoch: tf.data.Dataset.from_tensor_slices(model.epoch_order(count, epoch * steps)).batch(batch_size))
    return _untuned(tf.data.Dataset.zip((orders, tf.data.Dataset.from_tensors(images).repeat()))
                    .map(lambda order, all_images: tf.gather(all_images, order)))


def train_vae(train_images, valid_images, config: TrainingConfig = TrainingConfig(), print_every: int = 10,
              callbacks=()):
    """Train a VAE on normal images; return ``(model, history)``.

    ``history`` is a dict of per-epoch lists (``loss``, ``val_loss``) plus ``best_epoch`` (1-based),
    ``best_val_loss`` and ``seconds`` (wall time of ``fit``). The returned model holds the weights
    of the best validation epoch. Inputs are checked before any work starts. ``print_every=0``
    prints nothing. ``callbacks``: extra Keras callbacks (timers, for example), run last.

    The engine, with XLA: ``fit`` gets the whole training set once per epoch, and
    :meth:`VAE.train_step <vaelib.model.VAE.train_step>` shuffles it and runs every step of
    ``config.batch_size`` images inside one compiled call, so there is one dispatch per epoch and
    no per-epoch data pipeline. Without XLA, ``fit`` gets the same batches one per step
    (:func:`epoch_batches`): TensorFlow's graph executor does not run such a loop of steps
    reproducibly. Either way the steps are those of plain Keras on the same order (tested).
    """
    train_images = check_training_images(train_images, "train_images")
    valid_images = check_training_images(valid_images, "valid_images")
    xla = use_xla(config)
    # With XLA, determinism comes from XLA's CPU code, and TensorFlow's op determinism must be off.
    set_determinism(config.seed, config.deterministic and not xla)
    model = VAE(config.codings_size, config.hidden_units, config.activation, config.kl_weight, seed=config.seed)
    optimizer = keras.optimizers.get({"class_name": config.optimizer,
                                      "config": {"learning_rate": config.learning_rate}})
    model.compile(optimizer=optimizer, loss="binary_crossentropy", jit_compile=xla)
    xla = bool(model.jit_compile)  # what Keras actually does
    # Datasets that repeat one tensor keep one iterator for the whole training, for training and
    # validation alike: nothing is sliced, copied or set up again per epoch.
    if xla:
        model.step_batch_size = config.batch_size
        train_data, steps_per_epoch = every_epoch_dataset(train_images), 1
    else:
        train_data = epoch_batches(model, train_images, config.batch_size, config.epochs)
        steps_per_epoch = -(-len(train_images) // config.batch_size)
    best = KeepBestWeights()
    callbacks = ([StopOnNonFiniteLoss(), best] + ([EpochPrinter(print_every)] if print_every else [])
                 + list(callbacks))
    start = time.perf_counter()
    fit = model.fit(
        train_data,
        steps_per_epoch=steps_per_epoch,
        validation_data=every_epoch_dataset(valid_images),
        validation_steps=1,
        epochs=config.epochs,
        shuffle=False,  # train_step shuffles
        callbacks=callbacks,
        verbose=0,
    )
    if xla:  # XLA pays off for training; predict (and the saved model) without it: no compile per shape
        model.compile(optimizer=optimizer, loss="binary_crossentropy", jit_compile=False)
    history = {key: [float(v) for v in values] for key, values in fit.history.items()}
    history.update(best_epoch=best.best_epoch, best_val_loss=float(best.best_loss), xla=xla,
                   seconds=time.perf_counter() - start)
    return model, history
