"""The guide's Core API loop (examples/core_api.py): it learns, and compiles once per shape."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import clflow as tf
import numpy as np
import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "core_api.py"


@pytest.fixture(scope="module")
def ex():
    spec = importlib.util.spec_from_file_location("core_api_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_teacher_problem_learns_with_one_compilation(ex):
    tf.set_seed(5)
    # hidden=27: a structure no other test compiles, so the cache starts cold for it.
    model = ex.make_model(ex.make_params(hidden=27, stddev=0.05))
    ds = ex.teacher_dataset(n=320, seed=3)  # 10 full batches of 32 per epoch
    opt = tf.train.sgd(0.3)
    compiles = tf.engine.cache_info()["compiles"]
    losses = ex.train(ds, model, opt, epochs=1, log=None)
    builds = tf.engine.device().stats["builds"]
    losses += ex.train(ds, model, opt, epochs=1, log=None)
    assert len(losses) == 20 and opt.iterations == 20
    assert tf.engine.cache_info()["compiles"] - compiles == 1
    assert tf.engine.device().stats["builds"] == builds  # nothing built after the first pass
    assert np.all(np.isfinite(losses))
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert first > 2.2  # about log(10) at the start
    assert last < first - 0.2, losses


def test_loss_per_step_matches_numpy(ex):
    tf.set_seed(6)
    params = ex.make_params(hidden=8, stddev=0.1)
    model = ex.make_model(params)
    w1, b1, w2, b2 = (p.numpy().astype(np.float64) for p in params)
    batch = next(iter(ex.teacher_dataset(n=32, seed=4)))
    x, y = batch["xs"].numpy().astype(np.float64), batch["ys"].numpy().astype(np.float64)
    opt = tf.train.sgd(0.1)
    for _ in range(3):
        cost = opt.minimize(
            lambda: tf.losses.softmax_cross_entropy(batch["ys"], model(batch["xs"])), True
        )
        h = np.maximum(x @ w1 + b1, 0)
        z = h @ w2 + b2
        z = z - z.max(1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        np.testing.assert_allclose(float(cost), -np.mean(np.sum(y * np.log(p), 1)), rtol=1e-4)
        dz = (p - y) / len(x)
        dh = (dz @ w2.T) * (h > 0)
        w2, b2 = w2 - 0.1 * h.T @ dz, b2 - 0.1 * dz.sum(0)
        w1, b1 = w1 - 0.1 * x.T @ dh, b1 - 0.1 * dh.sum(0)
    for p, want in zip(params, (w1, b1, w2, b2), strict=True):
        np.testing.assert_allclose(p.numpy(), want, rtol=1e-3, atol=1e-5)


def test_guide_loop_runs_and_prints(ex, capsys):
    tf.set_seed(7)
    model = ex.make_model(ex.make_params())
    losses = ex.train(ex.guide_dataset(n=40), model, tf.train.sgd(0.1), epochs=2)
    out = capsys.readouterr().out.splitlines()
    assert len(losses) == 4  # 40 samples: batches of 32 and 8, twice
    assert out.count("Epoch 0") == 1 and out[-1] == "Epoch 1"
    assert sum(line.startswith("Loss ") for line in out) == 4
    assert np.all(np.isfinite(losses))


def test_python_scalars_in_a_loop_compile_once():
    """``x * i`` for many i: the scalar is an input of one executable, not baked into many."""
    x = tf.tensor(np.array([1.0, -2.0, 3.0], np.float32))
    x.mul(0.5).numpy()
    before = tf.engine.cache_info()["compiles"]
    for i in [1.5, 2.0, -0.0, 0.0, float("nan"), 7.25]:
        got = x.mul(i).add(i).numpy()
        want = np.array([1.0, -2.0, 3.0], np.float32) * np.float32(i) + np.float32(i)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
        np.testing.assert_allclose(got, want, rtol=0, atol=0, equal_nan=True)
    assert tf.engine.cache_info()["compiles"] == before + 1  # mul+add: one new structure
