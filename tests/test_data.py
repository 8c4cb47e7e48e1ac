import gzip
import time

import numpy as np
import pytest

from vaelib import data
from vaelib.data import (FILES, CorruptDataError, DataNotFoundError, find_data_dir, load_fashion_mnist,
                         load_sample, make_split)
from vaelib.params import ParameterError


@pytest.fixture
def no_default_sources(monkeypatch, tmp_path):
    """Hide the Keras cache and Debian's folder, and any data-dir environment variable."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.delenv(data.ENV_VAR, raising=False)


def write_fake_dataset(folder, sample):
    """Write the embedded sample as the four IDX files, and return their expected checksums."""
    import hashlib

    images, labels = sample
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for name, array in zip(FILES, (images, labels, images[:100], labels[:100])):
        header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
        raw = header + array.tobytes()
        (folder / name).write_bytes(gzip.compress(raw))
        sums[name] = hashlib.sha256(raw).hexdigest()
    return sums


def test_sample_is_real_and_balanced():
    images, labels = load_sample()
    assert images.shape == (1000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [100] * 10
    assert images.max() == 255 and 0.2 < images.mean() / 255 < 0.4  # real clothes, not noise


def test_explicit_folder_without_files_names_them(no_default_sources, tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        find_data_dir(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "apt-get install dataset-fashion-mnist" in message


def test_no_source_fails_fast_and_says_how(no_default_sources):
    with pytest.raises(DataNotFoundError, match="dataset-fashion-mnist"):
        load_fashion_mnist()


def test_offline_download_fails_quickly_with_a_message(no_default_sources, monkeypatch):
    monkeypatch.setattr(data, "DOWNLOAD_URL", "http://127.0.0.1:9/")  # nothing listens on port 9
    start = time.perf_counter()
    with pytest.raises(DataNotFoundError, match="Downloading train-images"):
        load_fashion_mnist(download=True)
    assert time.perf_counter() - start < 20


def test_loads_and_verifies_a_folder(no_default_sources, tmp_path, monkeypatch):
    sums = write_fake_dataset(tmp_path / "fm", load_sample())
    monkeypatch.setattr(data, "FILES", sums)
    data._load_from.cache_clear()
    x_train, y_train, x_test, y_test = load_fashion_mnist(tmp_path / "fm")
    assert x_train.shape == (1000, 28, 28) and y_test.shape == (100,)
    assert np.array_equal(x_train, load_sample()[0])


def test_truncated_file_is_named(no_default_sources, tmp_path, monkeypatch):
    sums = write_fake_dataset(tmp_path / "fm", load_sample())
    monkeypatch.setattr(data, "FILES", sums)
    data._load_from.cache_clear()
    victim = tmp_path / "fm" / "train-images-idx3-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:5000])
    with pytest.raises(CorruptDataError, match="train-images-idx3-ubyte.gz.*truncated or corrupt"):
        load_fashion_mnist(tmp_path / "fm")


def test_wrong_checksum_is_named(no_default_sources, tmp_path, monkeypatch):
    write_fake_dataset(tmp_path / "fm", load_sample())  # real checksums stay: the sample is not the full set
    data._load_from.cache_clear()
    with pytest.raises(CorruptDataError, match="train-images-idx3-ubyte.gz has SHA-256"):
        load_fashion_mnist(tmp_path / "fm")


def test_environment_variable_is_a_source(no_default_sources, tmp_path, monkeypatch):
    write_fake_dataset(tmp_path / "env", load_sample())
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "env"))
    assert find_data_dir() == tmp_path / "env"


def test_split_on_the_sample_is_stratified_and_selects_classes():
    images, labels = load_sample()
    split = make_split(images, labels, images, labels, [0, 2, 6], [7], seed=1)
    assert set(split.train_labels) == {0, 2, 6}
    assert np.bincount(split.valid_labels, minlength=10)[[0, 2, 6, 7]].tolist() == [10, 10, 10, 10]
    assert split.valid_is_anomaly.sum() == 10 and split.test_is_anomaly.sum() == 100
    assert split.train_images.dtype == np.float32 and split.train_images.max() <= 1.0
    again = make_split(images, labels, images, labels, [0, 2, 6], [7], seed=1)
    assert np.array_equal(split.valid_labels, again.valid_labels)


@pytest.mark.parametrize("normal, anomaly, fragment", [
    ([0, 2], [2], "in both"), ([0, 12], [7], "outside 0-9"), ([], [7], "empty"), ([0], "", "empty"),
])
def test_split_rejects_bad_classes_before_any_work(normal, anomaly, fragment):
    images, labels = load_sample()
    with pytest.raises(ParameterError, match=fragment):
        make_split(images, labels, images, labels, normal, anomaly)


def test_real_fashion_mnist_split_has_the_documented_sizes():
    try:
        split = make_split(*load_fashion_mnist())
    except DataNotFoundError as exc:  # CI installs the data; say clearly why when it is absent
        pytest.skip(f"Fashion-MNIST is not installed here: {exc}")
    assert split.sizes() == {"normal training": 16200, "validation": 2400, "normal validation": 1800,
                             "anomalous validation": 600, "test": 4000, "normal test": 3000,
                             "anomalous test": 1000}
    assert set(np.unique(split.test_labels)) == {0, 2, 6, 7}  # the seed's filters dropped class 6


def test_cli_reports_missing_data(no_default_sources, capsys):
    assert data.main([]) == 1
    assert "dataset-fashion-mnist" in capsys.readouterr().out
