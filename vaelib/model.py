"""The variational autoencoder (Keras 3): sampling layer, encoder, decoder, losses, save/load.

Shapes: images ``(batch, 28, 28)`` float32 in ``[0, 1]``; codings ``(batch, codings_size)``.
The defaults are the seed notebook's architecture: Dense 256-128-64 (selu), 16 codings, a
mirrored decoder with a sigmoid output, BCE reconstruction loss plus KL / 784.

Classes are registered with Keras under the package name ``vaelib``, so a fresh process loads a
saved ``.keras`` file with ``keras.saving.load_model(path)`` (safe mode on, no ``custom_objects``)
once ``vaelib`` is imported; :func:`load_vae` does exactly that.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

PIXELS = 28 * 28


def kl_divergence(mean, log_var):
    """KL( N(mean, exp(log_var)) || N(0, I) ) per sample, in nats.

    Closed form for diagonal Gaussians: ``-1/2 * sum(1 + log_var - mean**2 - exp(log_var))`` over
    the last axis. Inputs ``(batch, codings_size)``; output ``(batch,)``.
    """
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


def binary_cross_entropy_sum(images, reconstructions, epsilon: float = 1e-7):
    """Bernoulli negative log-likelihood per image, summed over pixels, in nats.

    ``-sum(x log x_hat + (1 - x) log(1 - x_hat))``; ``x_hat`` is clipped to
    ``[epsilon, 1 - epsilon]`` as Keras does. Inputs ``(batch, 28, 28)``; output ``(batch,)``.
    """
    x = ops.reshape(ops.convert_to_tensor(images, "float32"), (-1, PIXELS))
    x_hat = ops.clip(ops.reshape(ops.convert_to_tensor(reconstructions, "float32"), (-1, PIXELS)),
                     epsilon, 1.0 - epsilon)
    return -ops.sum(x * ops.log(x_hat) + (1.0 - x) * ops.log(1.0 - x_hat), axis=-1)


@keras.saving.register_keras_serializable(package="vaelib")
class Sampling(layers.Layer):
    """The reparameterisation trick: ``z = mean + exp(log_var / 2) * eps``, ``eps ~ N(0, I)``.

    Noise is drawn only when ``training=True``, from a :class:`keras.random.SeedGenerator`:
    each training call gives new noise, and the same ``seed`` gives the same sequence. At
    inference the layer returns ``mean`` itself, so scores do not change from call to call.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        mean, log_var = inputs
        if not training:
            return mean
        # keras.random.normal(shape, seed=self.seed_generator) would leave the algorithm to
        # TensorFlow, whose default costs about 0.5 ms per draw of 128 x 16 under XLA on a CPU
        # (an eighth of a training step); Philox, named, draws the same kind of noise in 0.07 ms.
        seed = ops.cast(ops.mod(self.seed_generator.next(), 2**31 - 1), "int32")
        epsilon = tf.random.stateless_normal(ops.shape(mean), seed=seed, alg="philox")
        return mean + ops.exp(0.5 * log_var) * epsilon

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def build_encoder(codings_size: int = 16, hidden_units=(256, 128, 64), activation: str = "selu"):
    """Images ``(batch, 28, 28)`` to the Gaussian's ``[mean, log_var]``, each ``(batch, codings_size)``."""
    images = keras.Input(shape=(28, 28), name="images")
    h = layers.Flatten(name="flatten")(images)
    for i, units in enumerate(hidden_units):
        h = layers.Dense(units, activation=activation, name=f"hidden_{i + 1}")(h)
    mean = layers.Dense(codings_size, name="codings_mean")(h)
    log_var = layers.Dense(codings_size, name="codings_log_var")(h)
    return keras.Model(images, [mean, log_var], name="encoder")


def build_decoder(codings_size: int = 16, hidden_units=(64, 128, 256), activation: str = "selu"):
    """Codings ``(batch, codings_size)`` to pixel probabilities ``(batch, 28, 28)`` in ``(0, 1)``."""
    codings = keras.Input(shape=(codings_size,), name="codings")
    h = codings
    for i, units in enumerate(hidden_units):
        h = layers.Dense(units, activation=activation, name=f"hidden_{i + 1}")(h)
    pixels = layers.Dense(PIXELS, activation="sigmoid", name="pixels")(h)
    images = layers.Reshape((28, 28), name="images")(pixels)
    return keras.Model(codings, images, name="decoder")


@keras.saving.register_keras_serializable(package="vaelib")
class VAE(keras.Model):
    """Encoder, sampling, decoder; adds ``kl_weight * mean(KL)`` to the loss exactly once per call.

    Compiled with ``binary_crossentropy`` (the mean over pixels), the training loss per image is
    ``(BCE_sum + KL) / 784`` for the default ``kl_weight = 1/784``: the negative ELBO per pixel.
    ``model(images)`` returns reconstructions ``(batch, 28, 28)``; at inference (``training`` not
    set) they are decoded from the codings *mean*, so they are deterministic.

    ``step_batch_size``: images per gradient step in ``fit``. ``None`` (default): one step per batch
    that ``fit`` hands over, as in plain Keras. An integer: ``fit`` hands over the whole training
    set at once, once per epoch (``train_vae`` does), and :meth:`train_step` shuffles it
    (:meth:`epoch_order`) and runs consecutive steps of ``step_batch_size`` images (the last one
    smaller if the batch does not divide evenly) inside one compiled call: the steps of plain
    ``fit(batch_size=step_batch_size, shuffle=False)`` on the images in that order, with one
    dispatch per epoch. ``train_vae`` uses it with XLA only: TensorFlow's graph executor does not
    run this loop reproducibly from one process to the next. In training, the
    encoder and the decoder run on each half of a batch apart (:meth:`_by_halves`), so that XLA
    keeps two CPU cores busy; outputs and loss are those of the whole batch.
    """

    def __init__(
        self,
        codings_size: int = 16,
        hidden_units=(256, 128, 64),
        activation: str = "selu",
        kl_weight: float = 1.0 / PIXELS,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.codings_size = int(codings_size)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        self.kl_weight = float(kl_weight)
        self.seed = seed
        self.encoder = build_encoder(self.codings_size, self.hidden_units, activation)
        self.decoder = build_decoder(self.codings_size, self.hidden_units[::-1], activation)
        self.sampling = Sampling(seed=seed, name="sampling")
        self.step_batch_size = None
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, images, training=None):
        mean, log_var = self._by_halves(self.encoder, images, training)
        codings = self.sampling([mean, log_var], training=training)
        self.add_loss(self.kl_weight * ops.mean(kl_divergence(mean, log_var)))
        return self._by_halves(self.decoder, codings, training)

    @staticmethod
    def _by_halves(network, inputs, training):
        """``network(inputs)``; in training, run on the first and the second half of the batch apart
        and joined again. Each image's outputs are the same either way (a dense layer works row by
        row), and a batch's gradient is the sum of its halves'. Two independent halves let XLA's CPU
        code run their matmuls on two cores at once, where one batch of 128 images runs its chain
        of layers one matmul after another (the book's Performance appendix measures the gain)."""
        if not training:
            return network(inputs, training=training)
        half = tf.shape(inputs)[0] // 2
        outputs = [network(part, training=training) for part in (inputs[:half], inputs[half:])]
        if isinstance(outputs[0], (list, tuple)):
            return [ops.concatenate(parts, axis=0) for parts in zip(*outputs)]
        return ops.concatenate(outputs, axis=0)

    def build(self, input_shape=None):
        # Encoder and decoder are functional models, built when created; sampling has no weights.
        self.built = True

    # Training and evaluation steps (TensorFlow backend). The loss is the compiled one (binary
    # cross-entropy) plus the KL term added in `call`: `compute_loss` sums both.
    @property
    def metrics(self):
        return [self.loss_tracker]

    def _gradient_step(self, images):
        """One RMSprop (or other optimizer) step on a batch; adds its mean loss to the tracker."""
        with tf.GradientTape() as tape:
            loss = self.compute_loss(x=images, y=images, y_pred=self(images, training=True), training=True)
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        self.loss_tracker.update_state(loss, sample_weight=tf.shape(images)[0])

    def epoch_order(self, count, steps_taken):
        """A permutation of ``range(count)`` (int32 tensor): the order of the images in the epoch
        that starts after ``steps_taken`` optimizer steps, drawn from ``seed`` and that count, so
        every epoch has its own order and the same seed gives the same orders."""
        key = tf.stack([tf.constant(self.seed or 0, tf.int64), tf.cast(steps_taken, tf.int64)])
        return tf.argsort(tf.random.stateless_uniform(tf.reshape(count, [1]), seed=key), stable=True)

    def train_step(self, data):
        """The gradient steps for what ``fit`` hands over: one batch, or with ``step_batch_size``
        the whole training set, shuffled and cut into consecutive batches; returns the running
        mean loss per image of the epoch so far."""
        images = data[0] if isinstance(data, tuple) else data
        size = self.step_batch_size
        if size is None:
            self._gradient_step(images)
            return {"loss": self.loss_tracker.result()}
        count = tf.shape(images)[0]
        # One shuffled copy per epoch, then contiguous slices: XLA's CPU code gathers scattered
        # rows inside a loop very slowly (it copies the whole array for every step).
        images = tf.gather(images, self.epoch_order(count, self.optimizer.iterations))
        full = count // size  # full batches; then the rest, if any, as one smaller batch

        def step(i):  # a slice of a whole batch; a gather where there is none (XLA compiles the body anyway)
            batch = (tf.slice(images, [i * size, 0, 0], [size, 28, 28]) if (images.shape[0] or 0) >= size
                     else tf.gather(images, i * size + tf.range(size)))
            self._gradient_step(batch)
            return i + 1

        tf.while_loop(lambda i: i < full, step, [tf.constant(0)])
        tf.cond(count > full * size, lambda: self._gradient_step(tf.gather(images, tf.range(full * size, count))),
                lambda: None)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        """The loss of a validation batch at inference (codings mean, no noise), tracked per image."""
        images = data[0] if isinstance(data, tuple) else data
        loss = self.compute_loss(x=images, y=images, y_pred=self(images, training=False), training=False)
        self.loss_tracker.update_state(loss, sample_weight=tf.shape(images)[0])
        return {"loss": self.loss_tracker.result()}

    def get_config(self):
        return {
            **super().get_config(),
            "codings_size": self.codings_size,
            "hidden_units": list(self.hidden_units),
            "activation": self.activation,
            "kl_weight": self.kl_weight,
            "seed": self.seed,
        }

    # Plain-array helpers (numpy in, numpy out), deterministic.
    def encode(self, images, batch_size: int = 2048):
        """``(mean, log_var)`` of the codings, each ``(n, codings_size)`` float32."""
        mean, log_var = self.encoder.predict(_check_images(images), batch_size=batch_size, verbose=0)
        return mean, log_var

    def decode(self, codings, batch_size: int = 2048):
        """Pixel probabilities ``(n, 28, 28)`` float32 for codings ``(n, codings_size)``."""
        codings = np.asarray(codings, dtype=np.float32)
        if codings.ndim != 2 or codings.shape[1] != self.codings_size:
            raise ValueError(f"codings must have shape (n, {self.codings_size}), got {codings.shape}.")
        return self.decoder.predict(codings, batch_size=batch_size, verbose=0)

    def reconstruct(self, images, batch_size: int = 2048):
        """Reconstructions ``(n, 28, 28)`` float32, decoded from the codings mean (deterministic)."""
        return self.predict(_check_images(images), batch_size=batch_size, verbose=0)


def _check_images(images) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape (n, 28, 28), got {images.shape}.")
    return images


def save_vae(model: VAE, path: str | os.PathLike) -> None:
    """Save to a ``.keras`` file atomically: a crash mid-save never leaves a broken file behind."""
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"Keras 3 saves whole models to '.keras' files; got {path!r}.")
    tmp = path[: -len(".keras")] + ".partial.keras"
    model.save(tmp)
    os.replace(tmp, path)


def load_vae(path: str | os.PathLike) -> VAE:
    """Load a model saved by :func:`save_vae` (safe mode on, no ``custom_objects`` needed)."""
    model = keras.saving.load_model(os.fspath(path), safe_mode=True)
    if not isinstance(model, VAE):
        raise TypeError(f"{path} holds a {type(model).__name__}, not a vaelib VAE.")
    return model

