import math

import numpy as np
import pytest

from vaelib.params import ParameterError
from vaelib.training import KeepBestWeights, StopOnNonFiniteLoss, TrainingConfig, TrainingDivergedError, train_vae


def small_config(**overrides):
    return TrainingConfig(**{"epochs": 2, "batch_size": 32, "codings_size": 4, "hidden_units": (32, 16),
                             "seed": 5, **overrides})


def test_training_is_reproducible(sample_images):
    images = sample_images[0][:96]
    _, first = train_vae(images[:64], images[64:], small_config(), print_every=0)
    _, second = train_vae(images[:64], images[64:], small_config(), print_every=0)
    assert first["loss"] == second["loss"] and first["val_loss"] == second["val_loss"]
    _, other_seed = train_vae(images[:64], images[64:], small_config(seed=6), print_every=0)
    assert other_seed["loss"] != first["loss"]


def test_history_records_the_best_epoch(tiny_model):
    _, history, config = tiny_model
    assert len(history["loss"]) == config.epochs
    best = int(np.argmin(history["val_loss"])) + 1
    assert history["best_epoch"] == best and history["best_val_loss"] == min(history["val_loss"])


def test_nan_pixels_fail_before_training(sample_images):
    images = sample_images[0][:64].copy()
    images[3, 4, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train_vae(images, images, small_config())


def test_uint8_scale_pixels_fail_before_training(sample_images):
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        train_vae(sample_images[0][:8] * 255, sample_images[0][:8], small_config())


@pytest.mark.parametrize("field", ["epochs", "batch_size", "codings_size"])
def test_non_positive_config_is_rejected(field):
    with pytest.raises(ParameterError, match=field):
        small_config(**{field: 0})


def test_divergence_raises_a_clear_error():
    with pytest.raises(TrainingDivergedError, match="epoch 3.*Nothing was saved"):
        StopOnNonFiniteLoss().on_epoch_end(2, {"loss": math.nan})


def test_keep_best_weights_restores_the_best_epoch(tiny_model):
    model = tiny_model[0]
    keeper = KeepBestWeights()
    keeper.set_model(model)
    original = [w.copy() for w in model.get_weights()]
    keeper.on_epoch_end(0, {"val_loss": 0.5})
    model.set_weights([w + 1 for w in original])
    keeper.on_epoch_end(1, {"val_loss": 0.7})  # worse: not kept
    keeper.on_train_end()
    assert keeper.best_epoch == 1
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), original))


@pytest.mark.parametrize("field, value", [("jit_compile", "yes"), ("deterministic", 1), ("steps_per_execution", 0)])
def test_speed_settings_are_validated(field, value):
    with pytest.raises(ParameterError, match=field):
        small_config(**{field: value})


def test_xla_training_is_reproducible(sample_images):
    """XLA runs with TensorFlow's op determinism off (Keras requires it): still bit-identical."""
    images = sample_images[0][:96]
    _, first = train_vae(images[:64], images[64:], small_config(jit_compile=True), print_every=0)
    _, second = train_vae(images[:64], images[64:], small_config(jit_compile=True), print_every=0)
    assert first["xla"] and first["loss"] == second["loss"] and first["val_loss"] == second["val_loss"]
    _, plain = train_vae(images[:64], images[64:], small_config(), print_every=0)  # op determinism back on
    assert not plain["xla"]


def test_auto_xla_waits_for_enough_epochs():
    from vaelib.training import XLA_MIN_EPOCHS, use_xla

    assert not use_xla(small_config(epochs=XLA_MIN_EPOCHS - 1))
    assert not use_xla(small_config(jit_compile=False, epochs=100))


def test_optimizer_and_kl_weight_are_checked():
    with pytest.raises(ParameterError, match="not a Keras optimizer"):
        small_config(optimizer="rmsprob")
    with pytest.raises(ParameterError, match="kl_weight"):
        small_config(kl_weight=-1)


def test_kl_weight_reaches_the_model(sample_images):
    images = sample_images[0][:64]
    model, _ = train_vae(images[:32], images[32:], small_config(epochs=1, kl_weight=0.5, optimizer="adam"),
                         print_every=0)
    assert model.kl_weight == 0.5 and type(model.optimizer).__name__ == "Adam"


@pytest.mark.parametrize("jit_compile, per_call", [(False, (1, 3, 8)), (True, (3, 8))])
def test_steps_per_execution_only_changes_the_dispatch(sample_images, jit_compile, per_call):
    """100 images at batch 32: three full steps and one of 4 images per epoch, whether fit hands
    over one batch at a time, three at a time, or all at once (one call per epoch).

    Without XLA the losses are bit-identical. With XLA a call of a single full batch compiles to
    another program (XLA unrolls a loop of one step and fuses it differently), which may round
    differently, so only settings whose calls loop over several batches are compared.
    """
    images = sample_images[0][:130]
    train, valid = images[:100], images[100:]
    runs = [train_vae(train, valid, small_config(steps_per_execution=n, jit_compile=jit_compile), print_every=0)
            for n in per_call]
    (first, h1), *others = runs
    assert h1["xla"] == jit_compile
    for model, history in others:
        assert history["loss"] == h1["loss"] and history["val_loss"] == h1["val_loss"]
        assert all(np.array_equal(a, b) for a, b in zip(first.get_weights(), model.get_weights()))


def test_training_steps_are_those_of_plain_keras_fit(sample_images):
    """Grouped steps give bit-identical losses to one gradient step per batch that fit hands over
    (``step_batch_size=None``, as in plain Keras)."""
    import keras

    from vaelib.model import VAE
    from vaelib.training import set_determinism

    images = sample_images[0][:130]
    train, valid = images[:100], images[100:]
    _, h1 = train_vae(train, valid, small_config(steps_per_execution=8), print_every=0)

    config = small_config()
    set_determinism(config.seed)
    plain = VAE(config.codings_size, config.hidden_units, seed=config.seed)
    plain.compile(optimizer=keras.optimizers.RMSprop(config.learning_rate), loss="binary_crossentropy")
    fit = plain.fit(train, train, validation_data=(valid, valid), epochs=config.epochs,
                    batch_size=config.batch_size, shuffle=True, verbose=0)
    assert fit.history["loss"] == h1["loss"] and fit.history["val_loss"] == h1["val_loss"]
    assert plain.optimizer.iterations.numpy() == config.epochs * 4
