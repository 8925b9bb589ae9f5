"""Replayed train steps (fit's per-batch step) and the step count carried on the device."""

from __future__ import annotations

import itertools

import clflow as tf
import numpy as np
import pytest
from clflow.optimizer import ReplayStep

_names = itertools.count()
RNG = np.random.default_rng(7)
X = RNG.normal(size=(40, 3)).astype(np.float32)
Y = (X @ np.array([1.0, -2.0, 0.5], np.float32) + 0.3).astype(np.float32)


def regression(seed_w: np.ndarray):
    """A variable, the data on the device, and f(idx): mean squared error on rows idx."""
    w = tf.variable(tf.tensor(seed_w), name=f"replay_w{next(_names)}")
    x, y = tf.tensor(X), tf.tensor(Y)
    calls = []

    def f(idx):
        calls.append(1)
        err = tf.gather(x, idx).mat_mul(w.reshape([3, 1])).reshape([-1]).sub(tf.gather(y, idx))
        return err.square().mean(), [err.abs().mean()]

    return w, f, calls


def numpy_sgd(w: np.ndarray, batches, lrs) -> np.ndarray:
    w = w.astype(np.float64)
    for ids, lr in zip(batches, lrs, strict=True):
        err = X[ids] @ w - Y[ids]
        w = w - lr * 2 * X[ids].T @ err / len(ids)
    return w


def test_replay_traces_twice_then_replays_with_the_same_numbers():
    w0 = np.array([0.1, 0.2, -0.1], np.float32)
    w, f, calls = regression(w0)
    opt = tf.train.sgd(0.05)
    step = ReplayStep(opt, f, [w])
    batches = [RNG.choice(40, 8, replace=False) for _ in range(6)]
    losses = []
    for ids in batches:
        loss, mae = step(tf.tensor(ids.astype(np.int32)))
        losses.append(float(loss.numpy()))
    assert len(calls) == 2  # traced on steps 1 and 2 only
    np.testing.assert_allclose(w.numpy(), numpy_sgd(w0, batches, [0.05] * 6), rtol=1e-5)
    # the loss reported by each step is the loss before its update
    w_before = numpy_sgd(w0, batches[:5], [0.05] * 5)
    err = X[batches[5]] @ w_before - Y[batches[5]]
    np.testing.assert_allclose(losses[5], np.mean(err**2), rtol=1e-5)
    np.testing.assert_allclose(float(mae.numpy()), np.mean(np.abs(err)), rtol=1e-5)
    assert opt.iterations == 6


def test_replay_sees_assignments_learning_rate_and_new_shapes():
    w0 = np.array([0.3, -0.2, 0.4], np.float32)
    w, f, calls = regression(w0)
    opt = tf.train.sgd(0.05)
    step = ReplayStep(opt, f, [w])
    ids = [RNG.choice(40, 8, replace=False) for _ in range(5)] + [np.arange(5)]
    for i in range(3):
        step(tf.tensor(ids[i].astype(np.int32)))
    reset = np.array([1.0, 1.0, 1.0], np.float32)
    w.assign(tf.tensor(reset))  # e.g. a callback restoring weights
    opt.set_learning_rate(0.1)
    step(tf.tensor(ids[3].astype(np.int32)))
    step(tf.tensor(ids[4].astype(np.int32)))
    assert len(calls) == 2
    step(tf.tensor(ids[5].astype(np.int32)))  # a smaller batch: a new shape is traced
    assert len(calls) == 3
    expected = numpy_sgd(reset, ids[3:], [0.1, 0.1, 0.1])
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-5)


def test_fresh_leaves_each_call_keep_being_traced():
    """A step drawing new random values each call (like dropout) never replays a stale one."""
    w0 = np.array([0.5, 0.5, 0.5], np.float32)
    w = tf.variable(tf.tensor(w0), name=f"replay_noise{next(_names)}")
    x = tf.tensor(X)
    calls, draws = [], []

    def f(idx):
        calls.append(1)
        noise = tf.random_uniform([3], 0.0, 1.0)
        draws.append(noise.numpy())
        return tf.gather(x, idx).mat_mul(w.mul(noise).reshape([3, 1])).square().mean()

    opt = tf.train.sgd(0.01)
    step = ReplayStep(opt, f, [w])
    expected = w0.astype(np.float64)
    for _ in range(4):
        ids = RNG.choice(40, 8, replace=False)
        step(tf.tensor(ids.astype(np.int32)))
        noise = draws[-1].astype(np.float64)
        pred = X[ids] @ (expected * noise)
        expected = expected - 0.01 * noise * (2 * X[ids].T @ pred / len(ids))
    assert len(calls) == 4
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-5)


def numpy_adam(x, grads_of, steps, lr=0.05, b1=0.9, b2=0.999, eps=1e-7, t0=0, m=None, v=None):
    m = np.zeros_like(x) if m is None else m
    v = np.zeros_like(x) if v is None else v
    for t in range(t0 + 1, t0 + steps + 1):
        g = grads_of(x)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return x, m, v


def test_adam_counts_steps_on_the_device_without_uploads():
    x0 = np.array([1.0, -2.0, 3.0])
    x = tf.variable(tf.tensor(x0.astype(np.float32)), name=f"adam_t{next(_names)}")
    c = tf.tensor(np.array([0.5, 1.5, -1.0], np.float32))
    opt = tf.train.adam(0.05)
    f = lambda: x.mul(c).square().sum()  # noqa: E731
    opt.minimize(f)
    uploads = tf.engine.device().stats["uploads"]
    for _ in range(4):
        opt.minimize(f)
    assert tf.engine.device().stats["uploads"] == uploads  # t stayed on the device
    grads = lambda x: 2 * x * np.array([0.5, 1.5, -1.0]) ** 2  # noqa: E731
    expected, m, v = numpy_adam(x0, grads, 5)
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-5)
    assert opt.iterations == 5

    # setting the count through set_weights is honoured by the next step (t = 11)
    opt.set_weights([{"name": "iter", "tensor": tf.tensor(np.int32(10))}])
    opt.minimize(f)
    expected, _, _ = numpy_adam(expected, grads, 1, t0=10, m=m, v=v)
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-5)
    assert opt.iterations == 11


@pytest.mark.parametrize("n", [1, 2, 7])
def test_read_scalars_gathers_first_elements(n):
    dev = tf.engine.device()
    arrays = [np.array([k + 0.5, -1.0], np.float32) for k in range(n)]
    bufs = [dev.upload(a) for a in arrays]
    np.testing.assert_array_equal(dev.read_scalars(bufs), [a[0] for a in arrays])


def test_copy_takes_a_slice_and_checks_bounds():
    dev = tf.engine.device()
    src = dev.upload(np.arange(10, dtype=np.int32))
    out = dev.copy(src, 12, 8)
    np.testing.assert_array_equal(dev.download(out, (3,), np.int32), [2, 3, 4])
    with pytest.raises(ValueError, match=r"outside the source buffer of 40 bytes"):
        dev.copy(src, 8, 36)


def test_fit_sees_a_layer_frozen_by_a_callback():
    """fit replays its step, but a layer frozen mid-training stops moving at once."""
    model = tf.sequential(
        {
            "layers": [
                tf.layers.dense({"inputShape": [3], "units": 4, "activation": "relu"}),
                tf.layers.dense({"units": 1}),
            ]
        }
    )
    model.compile({"optimizer": tf.train.sgd(0.05), "loss": "meanSquaredError"})
    first = model.layers[0]
    seen = []

    def on_batch_end(batch, logs):
        seen.append([w.numpy().copy() for w in first.get_weights()])
        if batch == 3:
            first.trainable = False

    model.fit(X, Y.reshape(-1, 1), batch_size=4, epochs=1, shuffle=False,
              callbacks={"on_batch_end": on_batch_end})  # fmt: skip
    assert not np.array_equal(seen[1][0], seen[2][0])  # still training (replayed by now)
    for later in seen[4:]:
        np.testing.assert_array_equal(later[0], seen[3][0])
        np.testing.assert_array_equal(later[1], seen[3][1])
    assert len(seen) == 10
