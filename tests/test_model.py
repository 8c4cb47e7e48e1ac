import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from vaelib.model import VAE, Sampling, binary_cross_entropy_sum, build_decoder, build_encoder, kl_divergence, load_vae, save_vae


def test_kl_is_zero_for_the_prior():
    assert np.allclose(keras.ops.convert_to_numpy(kl_divergence(np.zeros((3, 16)), np.zeros((3, 16)))), 0.0)


def test_kl_is_8_per_sample_for_mean_1_over_16_dims():
    kl = keras.ops.convert_to_numpy(kl_divergence(np.ones((2, 16), "float32"), np.zeros((2, 16), "float32")))
    assert np.allclose(kl, [8.0, 8.0])


def test_summed_bce_of_half_is_784_ln2():
    half = np.full((1, 28, 28), 0.5, "float32")
    bce = keras.ops.convert_to_numpy(binary_cross_entropy_sum(half, half))
    assert bce == pytest.approx([784 * np.log(2)], rel=1e-6)


def test_sampling_noise_differs_between_calls_and_repeats_with_the_seed():
    mean, log_var = np.zeros((4, 16), "float32"), np.zeros((4, 16), "float32")
    layer = Sampling(seed=7)
    first = keras.ops.convert_to_numpy(layer([mean, log_var], training=True))
    second = keras.ops.convert_to_numpy(layer([mean, log_var], training=True))
    assert not np.allclose(first, second)
    replay = Sampling(seed=7)
    assert np.array_equal(keras.ops.convert_to_numpy(replay([mean, log_var], training=True)), first)
    assert 0.5 < first.std() < 1.5  # unit-variance noise


def test_sampling_returns_the_mean_at_inference():
    mean = np.arange(32, dtype="float32").reshape(2, 16)
    out = keras.ops.convert_to_numpy(Sampling(seed=1)([mean, np.zeros_like(mean)]))
    assert np.array_equal(out, mean)


def test_default_architecture_is_the_seeds():
    encoder, decoder = build_encoder(), build_decoder()
    assert [l.units for l in encoder.layers if hasattr(l, "units")] == [256, 128, 64, 16, 16]
    assert [l.units for l in decoder.layers if hasattr(l, "units")] == [64, 128, 256, 784]
    assert encoder.count_params() + decoder.count_params() == 488_112  # the seed's model.summary()


def test_kl_is_counted_exactly_once_in_the_loss(tiny_model, sample_images):
    model, _, _ = tiny_model
    images = sample_images[0][:64]
    mean, log_var = model.encode(images)
    expected = (np.mean(keras.ops.convert_to_numpy(binary_cross_entropy_sum(images, model.reconstruct(images))))
                + np.mean(keras.ops.convert_to_numpy(kl_divergence(mean, log_var)))) / 784
    assert model.evaluate(images, images, batch_size=64, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_inference_is_deterministic(tiny_model, sample_images):
    model, _, _ = tiny_model
    images = sample_images[0][:50]
    assert np.array_equal(model.reconstruct(images), model.reconstruct(images))


def test_saved_model_reloads_in_a_fresh_process_with_identical_outputs(tiny_model, sample_images, tmp_path):
    model, _, _ = tiny_model
    images = sample_images[0][:20]
    save_vae(model, tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "expected.npy", model.reconstruct(images))
    script = textwrap.dedent(f"""
        import numpy as np, keras
        import vaelib.model  # registers the classes
        model = keras.saving.load_model({str(tmp_path / 'm.keras')!r}, safe_mode=True)
        out = model.reconstruct(np.load({str(tmp_path / 'x.npy')!r}))
        assert np.array_equal(out, np.load({str(tmp_path / 'expected.npy')!r})), "outputs differ"
        print("identical", type(model).__name__, model.codings_size)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "identical VAE 4" in done.stdout


def test_save_needs_a_keras_file_and_load_checks_the_type(tiny_model, tmp_path):
    with pytest.raises(ValueError, match=".keras"):
        save_vae(tiny_model[0], tmp_path / "model.h5")
    other = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    other.save(tmp_path / "other.keras")
    with pytest.raises(TypeError, match="not a vaelib VAE"):
        load_vae(tmp_path / "other.keras")


def test_decode_checks_the_codings_shape(tiny_model):
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        tiny_model[0].decode(np.zeros((3, 16)))
    assert tiny_model[0].decode(np.zeros((3, 4))).shape == (3, 28, 28)


def test_sampling_noise_is_keras_random_normal_from_the_same_seed():
    """Sampling names TensorFlow's Philox algorithm for speed; the noise is what
    keras.random.normal draws from a SeedGenerator with the same seed, draw after draw."""
    layer, generator = Sampling(seed=3), keras.random.SeedGenerator(3)
    zeros = np.zeros((5, 4), "float32")
    for _ in range(2):
        noise = np.asarray(layer([zeros, zeros], training=True))
        assert np.array_equal(noise, np.asarray(keras.random.normal((5, 4), seed=generator)))


@pytest.mark.parametrize("batch", [128, 5, 1])  # even; odd (halves of 2 and 3); one image (an empty half)
def test_training_by_halves_gives_each_images_outputs_and_the_batchs_gradient(sample_images, batch):
    """In training the encoder and decoder run on each half of the batch apart (two cores at once);
    each image's outputs are those of the whole batch, and so is the loss's gradient."""
    import tensorflow as tf

    model = VAE(4, (32, 16), seed=3)
    images = sample_images[0][:batch]
    mean, log_var = (np.asarray(t) for t in VAE._by_halves(model.encoder, images, training=True))
    whole_mean, whole_log_var = (np.asarray(t) for t in model.encoder(images, training=True))
    assert mean.shape == (batch, 4)
    assert np.allclose(mean, whole_mean, rtol=1e-5, atol=1e-6)
    assert np.allclose(log_var, whole_log_var, rtol=1e-5, atol=1e-6)

    def gradients(network_call):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(network_call(mean)))
        return tape.gradient(loss, model.decoder.trainable_variables)

    halves = gradients(lambda codings: VAE._by_halves(model.decoder, codings, training=True))
    whole = gradients(lambda codings: model.decoder(codings, training=True))
    assert all(np.allclose(a, b, rtol=1e-4, atol=1e-7) for a, b in zip(halves, whole))
