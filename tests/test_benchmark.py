"""The benchmark's arithmetic: its FLOP count is the model's, its peak is the run's best, and the
Performance page is what ``bench/results.json`` renders to."""

import copy
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location("benchmark", ROOT / "bench" / "benchmark.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(ROOT / "bench"))


def test_flop_count_follows_the_models_dense_layers(bench):
    from vaelib.model import VAE

    model = VAE(16, seed=0)
    model.build()
    kernels = [tuple(layer.kernel.shape) for part in (model.encoder, model.decoder)
               for layer in part.layers if hasattr(layer, "kernel")]
    assert kernels == bench.dense_shapes()
    assert bench.forward_flops() == 2 * sum(i * o for i, o in kernels) == 972_800
    assert bench.train_step_flops() == 3 * 972_800 - 2 * 784 * 256 == 2_516_992
    assert bench.epoch_flops(16200, 1800) == 2_516_992 * 16200 + 972_800 * 1800


def results_with_peaks(training_gflops, peaks):
    row = {"gflops": training_gflops, "peak_fraction": training_gflops / peaks[0]}
    return {
        "matmul_peak": {"n": 2048, "repeats": 7, "gflops": peaks[0]},
        "ceiling": {"matmul_peak": {"gflops": max(peaks[1:])},
                    "peaks": [{"n": 2048, "repeats": 7, "gflops": g} for g in peaks[1:]]},
        "comparison": {"vaelib": dict(row), "seed": {"gflops": 20.0}},
        "levers": {"shipped": dict(row)},
        "scaling_images": {"rows": [dict(row)]},
        "scaling_codings": {"rows": [dict(row)]},
    }


def test_the_runs_peak_is_its_best_measurement_and_every_share_is_of_it(bench):
    r = results_with_peaks(80.0, [190.0, 200.0, 160.0])
    bench.settle_peak(r)
    assert r["matmul_peak"]["gflops"] == 200.0
    assert r["matmul_peak"]["measured"] == [190.0, 200.0, 160.0]
    for row in (r["comparison"]["vaelib"], r["levers"]["shipped"], r["scaling_images"]["rows"][0]):
        assert row["peak_fraction"] == pytest.approx(0.4)
    assert r["comparison"]["seed"]["peak_fraction"] == pytest.approx(0.1)
    again = copy.deepcopy(r)
    bench.settle_peak(again)
    assert again == r


def test_matmuls_alone_at_a_large_batch_set_the_peak_when_faster(bench):
    r = results_with_peaks(80.0, [190.0, 200.0, 160.0])
    r["ceiling"]["ladder"] = [{"batch": 128, "parts": ["matmuls"], "gflops": 170.0},
                              {"batch": 128, "parts": ["matmuls", "activations"], "gflops": 150.0}]
    r["ceiling"]["rows"] = [{"batch": 2048, "parts": ["matmuls"], "gflops": 250.0}]
    bench.settle_peak(r)
    assert r["matmul_peak"]["gflops"] == 250.0 and r["matmul_peak"]["n"] == 2048
    assert r["matmul_peak"]["chains"] == {"128": 170.0, "2048": 250.0}
    assert r["comparison"]["vaelib"]["peak_fraction"] == pytest.approx(80.0 / 250.0)


def test_the_performance_page_is_rendered_from_the_committed_results(bench):
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    bench.settle_peak(results)
    results["targets"] = bench.check_targets(results)
    page = bench.render_page(results)
    assert page == (ROOT / "book" / "performance.md").read_text()
    assert "| achieved throughput" in page and "GFLOP/s" in page
    shares = [float(s) for s in re.findall(r"\| (\d+)% \|", page)]
    assert shares and max(shares) <= 100
