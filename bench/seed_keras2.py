"""The seed notebook's model and training loop, verbatim in spirit, on Keras 2 (``tf_keras``).

Run by ``bench/benchmark.py`` in its own process with ``TF_USE_LEGACY_KERAS=1``; never used by
the product. It builds the seed's layers (Dense 256-128-64 selu, 16 codings, ``Sampling`` with
``K.random_normal``, mirrored decoder), adds the latent loss with ``add_loss(K.mean(..) / 784.)``,
compiles with ``binary_crossentropy`` and ``rmsprop``, and fits with batch 128, ``shuffle=True``
and ``ModelCheckpoint(save_best_only=True)`` writing a SavedModel on each improvement, as the
seed did. The only additions are a callback that times each epoch and the data: vaelib's split
(normal classes 0/2/6; 16200 training, 1800 normal validation images, float32 in [0, 1]).

Usage: ``python bench/seed_keras2.py --epochs 12 --out result.json``. The JSON holds
``epoch_seconds`` (wall time of each epoch, s), ``epoch_cpu_seconds`` (process CPU time, s),
``loss``/``val_loss`` and the library versions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from epoch_times import EpochTimes  # bench/ is the script's folder

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12, help="epochs to train (the seed: 100)")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    args = parser.parse_args(argv)

    import tensorflow as tf
    import tf_keras as keras

    from vaelib.data import load_fashion_mnist, make_split

    split = make_split(*load_fashion_mnist(), normal_classes=(0, 2, 6), anomaly_classes=(7,))
    normal_data = split.train_images
    normal_valid_data = split.valid_images[~split.valid_is_anomaly]

    # ---- the seed's code, unchanged except for names of imports ----
    K = keras.backend

    class Sampling(keras.layers.Layer):
        def call(self, inputs):
            mean, log_var = inputs
            return K.random_normal(tf.shape(log_var)) * K.exp(log_var / 2) + mean

    codings_size = 16
    inputs = keras.layers.Input(shape=[28, 28])
    z = keras.layers.Flatten()(inputs)
    z = keras.layers.Dense(256, activation="selu")(z)
    z = keras.layers.Dense(128, activation="selu")(z)
    z = keras.layers.Dense(64, activation="selu")(z)
    codings_mean = keras.layers.Dense(codings_size)(z)
    codings_log_var = keras.layers.Dense(codings_size)(z)
    codings = Sampling()([codings_mean, codings_log_var])
    variational_encoder = keras.models.Model(inputs=[inputs], outputs=[codings_mean, codings_log_var, codings])

    decoder_inputs = keras.layers.Input(shape=[codings_size])
    x = keras.layers.Dense(64, activation="selu")(decoder_inputs)
    x = keras.layers.Dense(128, activation="selu")(x)
    x = keras.layers.Dense(256, activation="selu")(x)
    x = keras.layers.Dense(28 * 28, activation="sigmoid")(x)
    outputs = keras.layers.Reshape([28, 28])(x)
    variational_decoder = keras.models.Model(inputs=[decoder_inputs], outputs=[outputs])

    _, _, codings = variational_encoder(inputs)
    reconstructions = variational_decoder(codings)
    variational_ae = keras.models.Model(inputs=[inputs], outputs=[reconstructions])
    latent_loss = -0.5 * K.sum(1 + codings_log_var - K.exp(codings_log_var) - K.square(codings_mean), axis=-1)
    variational_ae.add_loss(K.mean(latent_loss) / 784.)
    variational_ae.compile(loss="binary_crossentropy", optimizer="rmsprop")
    # ---- end of the seed's code ----

    class EpochTimer(EpochTimes, keras.callbacks.Callback):  # runs after ModelCheckpoint (listed first)
        pass

    timer = EpochTimer()
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint_cb = keras.callbacks.ModelCheckpoint(os.path.join(tmp, "VAE_model"), monitor="val_loss",
                                                        save_best_only=True)
        history = variational_ae.fit(normal_data, normal_data, epochs=args.epochs, batch_size=128,
                                     callbacks=[checkpoint_cb, timer],
                                     validation_data=(normal_valid_data, normal_valid_data), shuffle=True)
    result = {
        "epoch_seconds": timer.wall,
        "epoch_cpu_seconds": timer.cpu,
        "loss": [float(v) for v in history.history["loss"]],
        "val_loss": [float(v) for v in history.history["val_loss"]],
        "train_images": len(normal_data),
        "valid_images": len(normal_valid_data),
        "tensorflow": tf.__version__,
        "tf_keras": keras.__version__,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
