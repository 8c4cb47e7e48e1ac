import json

import numpy as np
import pytest

from vaelib import runs
from vaelib.data import make_split
from vaelib.params import CourseParameters
from vaelib.runs import RunMismatchError, RunNotFoundError, load_run, save_run


@pytest.fixture
def saved_run(tiny_model, tmp_path):
    model, history, config = tiny_model
    params = CourseParameters(normal_classes=[0], anomaly_classes=[7], epochs=2, batch_size=32, codings_size=4,
                              seed=3, run_dir=str(tmp_path / "run"))
    save_run(params.run_dir, model, history, params, config.to_dict())
    return params


@pytest.fixture
def small_split(sample_images):
    from vaelib.data import load_sample

    images, labels = load_sample()
    return make_split(images, labels, images[:200], labels[:200], [0], [7], seed=3)


def test_missing_run_says_to_run_chapter_2(tmp_path):
    with pytest.raises(RunNotFoundError, match="run notebooks/02_training.ipynb first"):
        load_run(CourseParameters(run_dir=str(tmp_path / "nothing")))


def test_run_trained_with_other_classes_is_refused(saved_run):
    other = CourseParameters(**{**saved_run.to_dict(), "normal_classes": [1]})
    with pytest.raises(RunMismatchError, match=r"normal_classes: saved \[0\], asked \[1\]"):
        load_run(other)


def test_run_round_trip(saved_run, tiny_model):
    run = load_run(saved_run)
    assert run.history["best_epoch"] == tiny_model[1]["best_epoch"]
    assert json.loads((run.path / "config.json").read_text())["training"]["codings_size"] == 4


def test_scores_are_computed_once_and_cached(saved_run, small_split, monkeypatch):
    run = load_run(saved_run)
    first = run.scores(small_split)
    assert first["train"].shape == (len(small_split.train_images),) and first["test"].shape == (len(small_split.test_images),)
    calls = []
    monkeypatch.setitem(runs.SCORES, "mae", lambda model, images: calls.append(1))
    again = load_run(saved_run).scores(small_split)
    assert calls == [] and all(np.array_equal(first[k], again[k]) for k in first)


def test_retraining_drops_stale_caches(saved_run, small_split, tiny_model):
    run = load_run(saved_run)
    run.scores(small_split)
    run.write_json("metrics.json", {"x": 1})
    model, history, config = tiny_model
    save_run(saved_run.run_dir, model, history, saved_run, config.to_dict())
    assert not (run.path / "scores.npz").exists() and not (run.path / "metrics.json").exists()


def test_unknown_score_is_named(saved_run, small_split):
    with pytest.raises(ValueError, match="Unknown score 'elbo'"):
        load_run(saved_run).scores(small_split, score="elbo")


def test_train_or_load_reuses_an_identical_run(saved_run, tiny_model, monkeypatch, capsys):
    from vaelib import training

    _, history, config = tiny_model
    monkeypatch.setattr(training, "train_vae", lambda *a, **k: pytest.fail("retrained an identical run"))
    model, loaded = runs.train_or_load(saved_run, None, None, config, print_every=1)
    assert loaded["loss"] == history["loss"] and model.codings_size == config.codings_size
    assert capsys.readouterr().out.count("epoch ") == config.epochs


def test_train_or_load_retrains_and_saves_when_the_config_differs(saved_run, tiny_model, monkeypatch):
    from vaelib import training

    model, history, config = tiny_model
    calls = []
    monkeypatch.setattr(training, "train_vae", lambda *a, **k: calls.append(1) or (model, history))
    other = training.TrainingConfig(**{**config.to_dict(), "learning_rate": 0.01})
    runs.train_or_load(saved_run, None, None, other)
    assert calls == [1]
    saved = json.loads((load_run(saved_run).path / "config.json").read_text())
    assert saved["training"]["learning_rate"] == 0.01  # the new run replaced the old one
    runs.train_or_load(saved_run, None, None, other)  # now the same config: reused, not retrained
    assert calls == [1]


def test_damaged_run_says_to_retrain(saved_run):
    (load_run(saved_run).path / "config.json").write_text("{not json")
    with pytest.raises(RunNotFoundError, match="incomplete or damaged.*02_training"):
        load_run(saved_run)


def test_damaged_score_cache_is_recomputed(saved_run, small_split):
    run = load_run(saved_run)
    first = run.scores(small_split)
    (run.path / "scores.npz").write_bytes(b"garbage")
    again = load_run(saved_run).scores(small_split)
    assert all(np.array_equal(first[k], again[k]) for k in first)


def test_damaged_model_file_says_to_retrain(saved_run):
    run = load_run(saved_run)
    (run.path / "model.keras").write_bytes(b"not a zip")
    with pytest.raises(RunNotFoundError, match="cannot be loaded.*02_training"):
        load_run(saved_run).model


def test_train_or_load_retrains_over_a_damaged_model_and_says_it_replaces_other_runs(saved_run, tiny_model,
                                                                                      monkeypatch, capsys):
    from vaelib import training

    model, history, config = tiny_model
    calls = []
    monkeypatch.setattr(training, "train_vae", lambda *a, **k: calls.append(1) or (model, history))
    (load_run(saved_run).path / "model.keras").write_bytes(b"not a zip")
    runs.train_or_load(saved_run, None, None, config)
    assert calls == [1] and load_run(saved_run).model.codings_size == 4  # retrained and saved again
    other = CourseParameters(**{**saved_run.to_dict(), "normal_classes": [1]})
    runs.train_or_load(other, None, None, config)
    assert "trained with other settings (normal_classes)" in capsys.readouterr().out
