"""The numpy interpreter against plain numpy written by hand, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest
from clflow.compiler.interpreter import interpret
from clflow.compiler.ir import Graph, IRError, Node
from clflow.compiler.ops import OPS, const, make

RNG = np.random.default_rng(7)


def inp(k: int, shape, dtype: str = "float32") -> Node:
    return Node("input", (), {"index": k, "role": "input"}, tuple(shape), dtype)


def M(op, *ins, **attrs):
    return make(op, ins, **attrs)


def test_dense_relu_softmax():
    x, w, b = inp(0, (4, 3)), inp(1, (3, 5)), inp(2, (5,))
    p = M("softmax", M("relu", M("add", M("matmul", x, w), b)))
    xv, wv, bv = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5)), RNG.normal(size=5)
    (got,) = interpret(Graph([x, w, b], [p]), [xv, wv, bv], precision="float64")
    h = np.maximum(xv @ wv + bv, 0)
    e = np.exp(h - h.max(1, keepdims=True))
    np.testing.assert_allclose(got, e / e.sum(1, keepdims=True), rtol=1e-12)
    assert got.dtype == np.float64


def test_float32_precision_by_default():
    x = inp(0, (3,))
    (got,) = interpret(Graph([x], [M("mul", x, 1.0 / 3)]), [np.array([1.0, 2.0, 3.0])])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.float32([1, 2, 3]) * np.float32(1.0 / 3))


def test_mean_squared_error_by_hand():
    p, t = inp(0, (6, 2)), inp(1, (6, 2))
    n = 12.0
    loss = M("div", M("sum", M("squared_difference", p, t)), n)
    pv, tv = RNG.normal(size=(6, 2)), RNG.normal(size=(6, 2))
    (got,) = interpret(Graph([p, t], [loss]), [pv, tv], precision="float64")
    assert got.shape == ()
    assert got == pytest.approx(np.mean((pv - tv) ** 2), rel=1e-12)


def test_movement_chain_and_gather():
    x, i = inp(0, (4, 6)), inp(1, (3,), "int32")
    v = M("reverse", M("slice", M("transpose", x), begin=(1, 0), size=(4, 3)), axes=1)
    y = M("gather", M("reshape", v, shape=(6, 2)), i)
    xv, iv = RNG.normal(size=(4, 6)), np.array([5, 0, 5], np.int32)
    (got,) = interpret(Graph([x, i], [y]), [xv, iv], precision="float64")
    np.testing.assert_array_equal(got, xv.T[1:5, 0:3][:, ::-1].reshape(6, 2)[iv])


def test_int_and_bool_semantics():
    a, b = inp(0, (6,), "int32"), inp(1, (6,), "int32")
    av = np.array([7, -7, 7, -7, 0, 5], np.int32)
    bv = np.array([2, 2, -2, -2, 3, 0], np.int32)
    outs = [
        M("div", a, b),
        M("mod", a, b),
        M("greater", a, b),
        M("any", M("less", a, 0)),
        M("sum", M("equal", a, 7)),
        M("cast", M("mul", a, 0.5), dtype="int32"),
    ]
    got = interpret(Graph([a, b], outs), [av, bv])
    np.testing.assert_array_equal(got[0], [3, -4, -4, 3, 0, 0])  # floor division; x / 0 is 0
    np.testing.assert_array_equal(got[1][:5], np.mod(av[:5], bv[:5]))
    np.testing.assert_array_equal(got[2], av > bv)
    assert got[3].dtype == np.bool_ and bool(got[3])
    assert got[4].dtype == np.int32 and got[4] == 2
    np.testing.assert_array_equal(got[5], [3, -3, 3, -3, 0, 2])  # truncation toward zero
    assert [g.dtype for g in got[:3]] == [np.int32, np.int32, np.bool_]


def test_shared_node_and_outputs_in_order():
    x = inp(0, (2, 2))
    e = M("exp", x)
    s = M("add", e, e)
    xv = RNG.normal(size=(2, 2))
    got = interpret(Graph([x], [s, e, x]), [xv], precision="float64")
    np.testing.assert_allclose(got[0], 2 * np.exp(xv))
    np.testing.assert_allclose(got[1], np.exp(xv))
    np.testing.assert_array_equal(got[2], xv)


def test_consts_and_scalars():
    x = inp(0, ())
    y = M("add", M("mul", x, const(2, "int32")), M("broadcast_to", const(0.5), shape=(3,)))
    (got,) = interpret(Graph([x], [y]), [np.float32(1.5)])
    np.testing.assert_array_equal(got, [3.5, 3.5, 3.5])


def test_wrong_number_of_inputs():
    x = inp(0, (2,))
    with pytest.raises(IRError, match="graph takes 1 inputs, got 2"):
        interpret(Graph([x], [x]), [np.zeros(2), np.zeros(2)])


def test_wrong_input_shape_names_both_shapes():
    x = inp(0, (2, 3))
    with pytest.raises(IRError, match=r"expected shape \[2, 3\], got \[3, 2\]"):
        interpret(Graph([x], [M("exp", x)]), [np.zeros((3, 2))])


def test_failing_reference_names_the_node():
    x = inp(0, (2,))
    y = M("exp", x)
    ref = OPS["exp"].ref
    try:
        OPS["exp"].ref = lambda a: 1 / 0
        with pytest.raises(IRError, match=r"interpreting .*= exp .*failed: division by zero"):
            interpret(Graph([x], [y]), [np.zeros(2)])
    finally:
        OPS["exp"].ref = ref
