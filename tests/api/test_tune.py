"""``clflow tune``: real timings, the cache file per device, and later plans using its winner."""

from __future__ import annotations

import json

import clflow as tf
import numpy as np
import pytest
from clflow import cli, engine, tune
from clflow.kernels import gemm


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cache dir; the GEMM defaults and compiled executables restored afterwards."""
    monkeypatch.setenv("CLFLOW_CACHE_DIR", str(tmp_path))
    tune.forget_applied()
    engine.clear_cache()
    yield tmp_path
    for kind in gemm.DEFAULT_PARAMS:
        gemm.set_tuned_params(kind, None)
    tune.forget_applied()  # the next engine.device() reads the real cache again
    engine.clear_cache()


def _stored(path) -> dict:
    return json.loads(path.read_text())["devices"][tune.device_key(engine.device())]


def test_tune_measures_stores_and_later_plans_use_the_winner(cache):
    dev = engine.device()
    if tune.param_kind(dev) != "cpu":
        pytest.skip("the candidates below are CPU-kind parameters")
    lines: list[str] = []
    # kb=1 puts a work-group barrier in every k step: far slower, so kb=16 wins for sure.
    result = tune.tune(
        shapes=[(128, 64, 256, False, False), (64, 40, 96, True, True)],
        candidates=[{"kb": 1}, {"kb": 16}],
        reps=1,
        min_time=0.002,
        log=lines.append,
    )
    assert result["label"] == "kb=16" and result["params"]["kb"] == 16
    assert set(result["gflops"]) == {"kb=1", "kb=16"}
    assert all(g > 0 for row in result["gflops"].values() for g in row.values())
    table = "\n".join(lines)
    assert "128x64x256nn" in table and "64x40x96tt" in table and "GF/s" in table
    entry = _stored(cache / "tuned_params.json")
    assert entry["params"] == result["params"] and entry["driver"] == dev.driver_version

    # A later process: the engine applies the stored winner when the device is chosen.
    gemm.set_tuned_params("cpu", None)
    tune.forget_applied()
    engine.device()
    assert gemm.tuned_params("cpu")["kb"] == 16
    assert "#define KB 16\n" in gemm.plan_gemm(40, 30, 50).launches[0].source
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 50)).astype(np.float32)
    w = rng.standard_normal((50, 30)).astype(np.float32)
    got = tf.mat_mul(tf.tensor(x), tf.tensor(w)).numpy()
    np.testing.assert_allclose(got, x.astype(np.float64) @ w, rtol=1e-3, atol=1e-4)
    sources = [k.source for r in engine._cache.values() for k in r.executable.kernels]
    assert any("#define KB 16\n" in s and "#define K 50\n" in s for s in sources)


def test_unusable_entries_warn_and_keep_the_builtins(cache):
    dev = engine.device()
    path = cache / "tuned_params.json"
    entry = {"params": {"tn": 8}}
    path.write_text(json.dumps({"version": 1, "devices": {tune.device_key(dev): entry}}))
    tune.forget_applied()
    with pytest.warns(UserWarning, match="param tn must be 16, 32, 48 or 64"):
        engine.device()
    kind = tune.param_kind(dev)
    assert gemm.tuned_params(kind) == gemm.DEFAULT_PARAMS[kind]
    path.write_text("{not json")
    tune.forget_applied()
    with pytest.warns(UserWarning, match="unreadable tuning cache"):
        assert tune.load_tuned(dev) is None


def test_cli_tune_prints_the_table_and_forgets(cache, capsys):
    rc = cli.main(["tune", "--shapes", "24x40x16:tn", "--reps", "1", "--no-save"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "24x40x16tn" in out and "built-in" in out and "not saved" in out
    assert not (cache / "tuned_params.json").exists()
    assert cli.main(["tune", "--forget"]) == 0
    assert "no stored parameters" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--shapes", "12x3"], "bad shape '12x3': expected MxNxK"),
        (["--shapes", "4x4x4:tx"], "must be nn, nt, tn or tt"),
        (["--reps", "0"], "--reps must be >= 1"),
    ],
)
def test_cli_tune_bad_input_is_one_line(cache, capsys, args, message):
    assert cli.main(["tune", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
