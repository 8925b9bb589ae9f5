"""tf.variable: names, assign checks, trainable flag, and values seen by ops and optimizers."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import clflow as tf
import numpy as np
import pytest

_names = itertools.count()
ERRORS = json.loads((Path(__file__).parents[1] / "fixtures" / "tfjs" / "errors.json").read_text())[
    "errors"
]


def fresh(prefix: str = "var_test") -> str:
    return f"{prefix}_{next(_names)}"


def test_initial_value_and_defaults():
    v = tf.variable(tf.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert v.shape == [2, 2] and v.dtype == "float32"
    assert v.trainable is True
    np.testing.assert_array_equal(v.numpy(), [[1, 2], [3, 4]])
    assert isinstance(v, tf.Tensor) and isinstance(v, tf.Variable)


def test_dtype_argument_casts_the_initial_value():
    v = tf.variable([1.7, -2.2], dtype="int32")
    assert v.dtype == "int32"
    np.testing.assert_array_equal(v.numpy(), [1, -2])  # truncation, as TF.js casts


def test_automatic_names_are_unique():
    names = {tf.variable(tf.zeros([1])).name for _ in range(5)}
    assert len(names) == 5


def test_duplicate_name_raises_tfjs_message():
    name = fresh("dup")
    keep = tf.variable(tf.scalar(1.0), True, name)
    expected = ERRORS["tf.variable duplicate name"]["message"].replace("dup_name", name)
    with pytest.raises(ValueError) as info:
        tf.variable(tf.scalar(2.0), True, name)
    assert str(info.value) == expected
    assert float(keep) == 1.0


def test_a_disposed_variable_frees_its_name():
    name = fresh("reuse")
    tf.variable(tf.scalar(1.0), name=name).dispose()
    again = tf.variable(tf.scalar(3.0), name=name)
    assert float(again) == 3.0


def test_assign_replaces_the_value_and_returns_the_variable():
    v = tf.variable(tf.tensor([1.0, 2.0]))
    assert v.assign(tf.tensor([5.0, 6.0])) is v
    np.testing.assert_array_equal(v.numpy(), [5, 6])
    v.assign([7.0, 8.0])  # array-likes too
    np.testing.assert_array_equal(v.numpy(), [7, 8])


def test_assign_checks_shape_and_dtype():
    v = tf.variable(tf.tensor([1.0, 2.0]), name=fresh("chk"))
    with pytest.raises(ValueError, match=rf"shape of the new value \[3\].*{v.name} \[2\]"):
        v.assign(tf.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"dtype of the new value \(int32\).*\(float32\)"):
        v.assign(tf.tensor(np.array([1, 2], np.int32)))
    np.testing.assert_array_equal(v.numpy(), [1, 2])


def test_ops_recorded_before_assign_see_the_old_value():
    # TF.js computes eagerly: y = v * 2 is fixed when written. clflow is lazy but must agree.
    v = tf.variable(tf.tensor([1.0, 2.0]))
    y = v * 2
    v.assign(tf.tensor([10.0, 20.0]))
    z = v * 2
    np.testing.assert_array_equal(y.numpy(), [2, 4])
    np.testing.assert_array_equal(z.numpy(), [20, 40])


def test_trainable_flag_decides_what_minimize_updates():
    a = tf.variable(tf.tensor([1.0]), trainable=True)
    b = tf.variable(tf.tensor([1.0]), trainable=False)
    tf.train.sgd(0.1).minimize(lambda: (a * b * 3.0).sum())
    np.testing.assert_allclose(a.numpy(), [0.7], rtol=1e-6)
    np.testing.assert_array_equal(b.numpy(), [1.0])
    grads = tf.variable_grads(lambda: (a * b * 3.0).sum())["grads"]
    assert set(grads) == {a.name}


def test_an_optimizer_step_keeps_name_shape_and_dtype():
    v = tf.variable(tf.ones([2, 3]), name=fresh("step"))
    name = v.name
    tf.train.adam(0.1).minimize(lambda: v.square().sum())
    assert (v.name, v.shape, v.dtype) == (name, [2, 3], "float32")
    assert np.all(v.numpy() < 1)
