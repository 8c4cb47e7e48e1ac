"""vaelib: anomaly detection with a variational autoencoder on Fashion-MNIST.

One module per idea, plain NumPy arrays between them:

* :mod:`vaelib.params`      the course parameters and their checks
* :mod:`vaelib.data`        find, verify, load and split Fashion-MNIST
* :mod:`vaelib.model`       the VAE (Keras 3): sampling, encoder, decoder, KL, save/load
* :mod:`vaelib.training`    reproducible training that keeps the best-validation weights
* :mod:`vaelib.scores`      per-image anomaly scores (deterministic)
* :mod:`vaelib.thresholds`  the seed notebook's five thresholds
* :mod:`vaelib.evaluation`  confusion matrix, precision/recall (both conventions), AUROC
* :mod:`vaelib.plots`       figures
* :mod:`vaelib.generation`  new images from the decoder
* :mod:`vaelib.runs`        the run directory shared by the chapters
* :mod:`vaelib.exercises`   self-checks for the exercises (✓ or a hint)
"""

import os

# Quiet TensorFlow's C++ start-up lines and pick the TensorFlow backend, unless the user chose.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
