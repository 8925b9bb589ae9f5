"""tf.grad, tf.grads, value_and_grad(s) and variable_grads against numpy derivatives."""

from __future__ import annotations

import json
from pathlib import Path

import clflow as tf
import numpy as np
import pytest
from clflow.gradients import NO_CONNECTION

ERRORS = json.loads((Path(__file__).parents[1] / "fixtures" / "tfjs" / "errors.json").read_text())[
    "errors"
]
RNG = np.random.default_rng(11)


def test_grad_of_a_cubic():
    x = np.array([-1.5, 0.5, 2.0])
    g = tf.grad(lambda t: (t * t * t).sum())(x)
    np.testing.assert_allclose(g.numpy(), 3 * x**2, rtol=1e-6)


def test_grad_of_a_non_scalar_f_sums_like_tfjs():
    g = tf.grad(lambda t: t.square())(tf.tensor([1.0, 2.0, 3.0]))
    assert ERRORS["tf.grad of a non-scalar function"]["result"].endswith("[2, 4, 6]")
    np.testing.assert_allclose(g.numpy(), [2, 4, 6])


def test_grad_with_upstream_dy():
    x = np.array([1.0, -2.0])
    dy = np.array([0.5, 3.0])
    g = tf.grad(lambda t: t.exp())(x, dy)
    np.testing.assert_allclose(g.numpy(), np.exp(x) * dy, rtol=1e-6)
    with pytest.raises(ValueError, match=r"dy must have the shape of f's result \[2\]"):
        tf.grad(lambda t: t.exp())(x, [1.0, 2.0, 3.0])


def test_grads_of_a_matmul_chain():
    a, b, c = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2)), RNG.normal(size=(3, 2))
    ga, gb = tf.grads(lambda x, y: (x.mat_mul(y) * c).sum())([a, b])
    np.testing.assert_allclose(ga.numpy(), c @ b.T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gb.numpy(), a.T @ c, rtol=1e-4, atol=1e-5)


def test_grads_of_an_unused_argument_is_zero():
    ga, gb = tf.grads(lambda x, y: x.sum())([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(ga.numpy(), [1, 1])
    np.testing.assert_array_equal(gb.numpy(), [0, 0])


def test_value_and_grad():
    x = RNG.normal(size=(2, 3))
    r = tf.value_and_grad(lambda t: t.log_softmax().sum())(x)
    ls = x - np.log(np.exp(x).sum(1, keepdims=True))
    np.testing.assert_allclose(r["value"].numpy(), ls.sum(), rtol=1e-5)
    soft = np.exp(ls)
    np.testing.assert_allclose(r["grad"].numpy(), 1 - 3 * soft, rtol=1e-5, atol=1e-6)


def test_value_and_grads():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    r = tf.value_and_grads(lambda x, y: (x * y + x.square()).sum())([a, b])
    np.testing.assert_allclose(r["value"].numpy(), np.sum(a * b + a * a))
    np.testing.assert_allclose(r["grads"][0].numpy(), b + 2 * a)
    np.testing.assert_allclose(r["grads"][1].numpy(), a)


def test_variable_grads_covers_trainable_variables_used():
    w = tf.variable(RNG.normal(size=(3,)))
    b = tf.variable(tf.scalar(0.5))
    unused = tf.variable(tf.ones([2]))
    x = RNG.normal(size=(4, 3))
    r = tf.variable_grads(lambda: ((x * w).sum(1) + b).square().mean())
    assert set(r["grads"]) == {w.name, b.name} and unused.name not in r["grads"]
    z = x @ w.numpy() + float(b)
    np.testing.assert_allclose(r["value"].numpy(), np.mean(z**2), rtol=1e-5)
    np.testing.assert_allclose(r["grads"][w.name].numpy(), 2 * (z[:, None] * x).mean(0), rtol=1e-5)
    np.testing.assert_allclose(r["grads"][b.name].numpy(), 2 * z.mean(), rtol=1e-5)


def test_variable_grads_with_var_list():
    a, b = tf.variable(tf.tensor([2.0])), tf.variable(tf.tensor([3.0]))
    r = tf.variable_grads(lambda: (a * b).sum(), [b])
    assert list(r["grads"]) == [b.name]
    np.testing.assert_allclose(r["grads"][b.name].numpy(), [2.0])


def test_variable_grads_errors():
    v = tf.variable(tf.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"must be a scalar, got shape \[2\]"):
        tf.variable_grads(lambda: v.square())
    with pytest.raises(ValueError) as info:
        tf.variable_grads(lambda: tf.scalar(2.0).square())
    assert str(info.value) == NO_CONNECTION


def test_f_not_returning_a_tensor():
    with pytest.raises(TypeError, match="must return a Tensor, got int"):
        tf.grad(lambda t: 3)(tf.scalar(1.0))


def test_grad_of_a_non_function_says_so():
    # TF.js: "The f passed in grad(f) must be a function", raised by grad(5) itself.
    with pytest.raises(TypeError, match="must be a function"):
        tf.grad(5)
