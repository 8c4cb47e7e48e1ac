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


@pytest.mark.parametrize("field, value", [("jit_compile", "yes"), ("deterministic", 1)])
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


def test_epoch_order_is_a_new_permutation_every_epoch_and_follows_the_seed():
    from vaelib.model import VAE

    model, other_seed = VAE(4, (16,), seed=5), VAE(4, (16,), seed=6)
    first, second = (model.epoch_order(100, steps).numpy() for steps in (0, 4))
    assert sorted(first) == sorted(second) == list(range(100))
    assert list(first) != list(second) != list(range(100))
    assert np.array_equal(first, VAE(4, (16,), seed=5).epoch_order(100, 0).numpy())
    assert not np.array_equal(first, other_seed.epoch_order(100, 0).numpy())


def test_every_epoch_dataset_repeats_the_images_without_autotuning(sample_images):
    """Autotuning off: with it, dropping the validation iterator after each epoch (Keras does)
    waited for the tuning thread, about a quarter of a second in most epochs."""
    from vaelib.training import every_epoch_dataset

    images = sample_images[0][:10]
    dataset = every_epoch_dataset(images)
    assert dataset.options().autotune.enabled is False
    first, second = (element.numpy() for element in dataset.take(2))
    assert np.array_equal(first, images) and np.array_equal(second, images)


@pytest.mark.parametrize("train_count", [100, 96, 20])  # a smaller last batch; none; no full batch
def test_training_steps_are_those_of_plain_keras_fit(sample_images, train_count):
    """train_vae without XLA takes the steps of plain Keras: one gradient step per batch of 32 that
    fit hands over (``step_batch_size=None``), unshuffled, on the images in each epoch's order
    (:meth:`VAE.epoch_order`, the order the compiled epoch with XLA uses too). Training losses are bit-identical; weights and validation
    losses agree to the last bits (TensorFlow may round an update differently, about 1e-8)."""
    import keras

    from vaelib.model import VAE
    from vaelib.training import set_determinism

    images = sample_images[0][:train_count + 30]
    train, valid = images[:train_count], images[train_count:]
    config = small_config(epochs=3)
    model, history = train_vae(train, valid, config, print_every=0)
    assert not history["xla"]

    set_determinism(config.seed)
    plain = VAE(config.codings_size, config.hidden_units, seed=config.seed)
    plain.compile(optimizer=keras.optimizers.RMSprop(config.learning_rate), loss="binary_crossentropy")
    losses, val_losses, weights = [], [], []
    for epoch in range(config.epochs):
        order = plain.epoch_order(train_count, plain.optimizer.iterations).numpy()
        fit = plain.fit(train[order], train[order], validation_data=(valid, valid), batch_size=config.batch_size,
                        shuffle=False, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
        losses += fit.history["loss"]
        val_losses += fit.history["val_loss"]
        weights.append(plain.get_weights())
    assert losses == history["loss"]
    assert plain.optimizer.iterations.numpy() == config.epochs * -(-train_count // config.batch_size)
    best = weights[history["best_epoch"] - 1]  # train_vae returns the best epoch's weights
    assert np.allclose(val_losses, history["val_loss"], rtol=1e-6, atol=0)
    assert all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(model.get_weights(), best))


def test_epoch_batches_are_each_epochs_order_cut_into_batches(sample_images):
    from vaelib.model import VAE
    from vaelib.training import epoch_batches

    images = sample_images[0][:10]
    model = VAE(4, (16,), seed=5)
    batches = [b.numpy() for b in epoch_batches(model, images, batch_size=4, epochs=2)]
    assert [len(b) for b in batches] == [4, 4, 2, 4, 4, 2]
    for epoch in range(2):  # epoch e starts after 3 * e steps
        order = model.epoch_order(10, 3 * epoch).numpy()
        assert np.array_equal(np.concatenate(batches[3 * epoch:3 * epoch + 3]), images[order])



@pytest.mark.parametrize("field, value", [("hidden_units", 16), ("optimizer", None), ("seed", -1), ("seed", "a"),
                                          ("seed", 1.5), ("activation", "foo")])
def test_bad_settings_name_the_field_before_training(field, value):
    """Found by a fresh user's trial: these failed later, inside Keras, without naming the field."""
    with pytest.raises(ParameterError, match=field):
        small_config(**{field: value})
