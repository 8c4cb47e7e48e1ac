import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

from vaelib.data import load_sample


@pytest.fixture(scope="session")
def sample_images():
    """The embedded real sample as float32 in [0, 1], with labels: (1000, 28, 28), (1000,)."""
    images, labels = load_sample()
    return images.astype(np.float32) / 255, labels


@pytest.fixture(scope="session")
def tiny_model(sample_images):
    """A VAE trained briefly on the sample's T-shirts (class 0): enough for behaviour tests."""
    from vaelib.training import TrainingConfig, train_vae

    images, labels = sample_images
    normal = images[labels == 0]
    config = TrainingConfig(epochs=2, batch_size=32, codings_size=4, hidden_units=(32, 16), seed=3)
    model, history = train_vae(normal[:80], normal[80:], config, print_every=0)
    return model, history, config
