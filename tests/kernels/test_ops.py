"""Every op on the OpenCL device against the float64 interpreter, plus spot checks vs numpy.

Shapes are few on purpose: each distinct kernel costs a build (~0.15 s cold on pocl).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from clflow.compiler.ir import Graph, Node
from clflow.compiler.ops import OPS, const, make
from clflow.compiler.pipeline import compile_graph
from clflow.runtime import get_device

RNG = np.random.default_rng(1234)


def inp(k: int, shape, dtype: str = "float32") -> Node:
    return Node("input", (), {"index": k, "role": "input"}, tuple(shape), dtype)


def rand(shape, lo=-2.0, hi=2.0, dtype=np.float32) -> np.ndarray:
    return RNG.uniform(lo, hi, size=shape).astype(dtype)


def rand_int(shape, lo=-9, hi=10) -> np.ndarray:
    return RNG.integers(lo, hi, size=shape).astype(np.int32)


def rand_bool(shape) -> np.ndarray:
    return RNG.random(shape) < 0.5


# --- elementwise unary -----------------------------------------------------------------------
# op -> (input range, attrs); ranges keep every op inside its domain.
UNARY = {
    "neg": ((-3, 3), {}),
    "abs": ((-3, 3), {}),
    "sign": ((-3, 3), {}),
    "exp": ((-3, 3), {}),
    "log": ((0.1, 5), {}),
    "sqrt": ((0.0, 5), {}),
    "rsqrt": ((0.1, 5), {}),
    "square": ((-3, 3), {}),
    "reciprocal": ((0.2, 4), {}),
    "relu": ((-3, 3), {}),
    "relu6": ((-3, 9), {}),
    "step": ((-3, 3), {}),
    "elu": ((-3, 3), {}),
    "selu": ((-3, 3), {}),
    "sigmoid": ((-8, 8), {}),
    "tanh": ((-4, 4), {}),
    "softplus": ((-8, 8), {}),
    "sin": ((-4, 4), {}),
    "cos": ((-4, 4), {}),
    "log1p": ((-0.9, 4), {}),
    "expm1": ((-3, 3), {}),
    "erf": ((-3, 3), {}),
    "floor": ((-3, 3), {}),
    "ceil": ((-3, 3), {}),
    "round": ((-3, 3), {}),
    "leaky_relu": ((-3, 3), {"alpha": 0.3}),
    "clip_by_value": ((-3, 3), {"clip_value_min": -1.0, "clip_value_max": 1.5}),
    "is_nan": ((-3, 3), {}),
}


def test_unary_table_covers_every_unary_op():
    unary = {n for n, d in OPS.items() if d.kind == "elementwise" and d.arity == 1}
    assert unary - set(UNARY) == {"cast", "logical_not"}


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_float(op, check_graph):
    (lo, hi), attrs = UNARY[op]
    x = inp(0, (33, 5))
    g = Graph([x], [make(op, [x], **attrs)])
    check_graph(g, [rand((33, 5), lo, hi)])


@pytest.mark.parametrize("op", ["neg", "abs", "sign", "square", "relu"])
def test_unary_int_stays_int(op, check_graph):
    x = inp(0, (7,), "int32")
    y = make(op, [x])
    assert y.dtype == "int32"
    check_graph(Graph([x], [y]), [rand_int((7,))])


def test_unary_int_to_float_op_casts(check_graph):
    x = inp(0, (7,), "int32")
    y = make("sqrt", [x])
    assert y.dtype == "float32"
    (got,) = check_graph(Graph([x], [y]), [np.arange(7, dtype=np.int32)])
    np.testing.assert_allclose(got, np.sqrt(np.arange(7)), rtol=1e-6)


def test_rounding_halves_match_numpy(run_graph):
    x = inp(0, (8,))
    xs = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51], np.float32)
    (r, f, c) = run_graph(
        Graph([x], [make("round", [x]), make("floor", [x]), make("ceil", [x])]), [xs]
    )
    np.testing.assert_array_equal(r, np.round(xs))
    np.testing.assert_array_equal(f, np.floor(xs))
    np.testing.assert_array_equal(c, np.ceil(xs))


@pytest.mark.parametrize("shape", [(1,), (7,), (33, 5), (3, 1, 7), (2, 3, 4, 5), (1000,)])
def test_ragged_shapes_against_numpy(shape, run_graph):
    x, y = inp(0, shape), inp(1, shape)
    out = make("add", [make("relu", [x]), make("mul", [y, 0.5])])
    xs, ys = rand(shape), rand(shape)
    (got,) = run_graph(Graph([x, y], [out]), [xs, ys])
    np.testing.assert_allclose(got, np.maximum(xs, 0) + ys * np.float32(0.5), rtol=1e-6)


def test_empty_tensors(check_graph):
    x = inp(0, (0, 3))
    outs = [make("exp", [x]), make("sum", [x], axes=0), make("max", [x], axes=1)]
    got = check_graph(Graph([x], outs), [np.zeros((0, 3), np.float32)])
    assert got[0].shape == (0, 3) and got[2].shape == (0,)
    np.testing.assert_array_equal(got[1], [0, 0, 0])


def test_scalar_graph(check_graph):
    x = inp(0, ())
    check_graph(Graph([x], [make("exp", [make("mul", [x, 3.0])])]), [np.float32(0.25)])


# --- elementwise binary ----------------------------------------------------------------------
BINARY = {
    "add": (-3, 3),
    "sub": (-3, 3),
    "mul": (-3, 3),
    "div": (0.5, 3),
    "floor_div": (0.5, 3),
    "mod": (0.5, 3),
    "pow": (0.5, 2),
    "maximum": (-3, 3),
    "minimum": (-3, 3),
    "squared_difference": (-3, 3),
    "equal": (-2, 2),
    "not_equal": (-2, 2),
    "greater": (-3, 3),
    "greater_equal": (-3, 3),
    "less": (-3, 3),
    "less_equal": (-3, 3),
}


def test_binary_table_covers_every_binary_op():
    binary = {n for n, d in OPS.items() if d.kind == "elementwise" and d.arity == 2}
    assert binary - set(BINARY) == {"logical_and", "logical_or"}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_float_broadcast(op, check_graph):
    lo, hi = BINARY[op]
    a, b = inp(0, (6, 5)), inp(1, (5,))
    av, bv = rand((6, 5), lo, hi), rand((5,), lo, hi)
    if op in ("equal", "not_equal"):  # make some exact ties
        av, bv = np.round(av), np.round(bv)
    if op in ("div", "floor_div", "mod"):  # signs mixed, magnitudes away from zero
        av *= np.where(RNG.random((6, 5)) < 0.5, -1, 1).astype(np.float32)
        bv *= np.array([1, -1, 1, -1, 1], np.float32)
    check_graph(Graph([a, b], [make(op, [a, b])]), [av, bv])


@pytest.mark.parametrize("case", ["col_row", "scalar_input", "const_left", "rank3"])
def test_broadcasting_patterns(case, check_graph):
    if case == "col_row":  # [M,1] * [1,N]
        a, b = inp(0, (7, 1)), inp(1, (1, 9))
        out = make("mul", [a, b])
    elif case == "scalar_input":
        a, b = inp(0, (4, 6)), inp(1, ())
        out = make("sub", [a, b])
    elif case == "const_left":
        a, b = inp(0, (4, 6)), inp(1, (6,))
        out = make("add", [make("div", [1.0, make("add", [a, 3.0])]), b])
    else:  # [2,1,4] - [3,1]
        a, b = inp(0, (2, 1, 4)), inp(1, (3, 1))
        out = make("sub", [a, b])
    check_graph(Graph([a, b], [out]), [rand(a.shape), rand(b.shape)])


def test_broadcast_against_numpy(run_graph):
    a, b = inp(0, (7, 1)), inp(1, (1, 9))
    av, bv = rand((7, 1)), rand((1, 9))
    (got,) = run_graph(Graph([a, b], [make("mul", [a, b])]), [av, bv])
    np.testing.assert_allclose(got, av * bv, rtol=1e-6)


INT_BINARY = [
    "add",
    "sub",
    "mul",
    "div",
    "floor_div",
    "mod",
    "maximum",
    "minimum",
    "squared_difference",
    "equal",
    "greater",
    "less_equal",
]


@pytest.mark.parametrize("op", INT_BINARY)
def test_binary_int_with_negatives(op, check_graph):
    a, b = inp(0, (9, 7), "int32"), inp(1, (9, 7), "int32")
    av = np.repeat(np.arange(-4, 5, dtype=np.int32)[:, None], 7, 1)
    bv = np.repeat(np.array([-3, -2, -1, 0, 1, 2, 3], np.int32)[None, :], 9, 0)
    y = make(op, [a, b])
    assert y.dtype == ("bool" if op in ("equal", "greater", "less_equal") else "int32")
    (got,) = check_graph(Graph([a, b], [y]), [av, bv])
    nz = bv != 0
    if op in ("div", "floor_div"):  # floor semantics like numpy / Python
        np.testing.assert_array_equal(got[nz], (av // np.where(nz, bv, 1))[nz])
    if op == "mod":
        np.testing.assert_array_equal(got[nz], (av % np.where(nz, bv, 1))[nz])


def test_int_pow(check_graph):
    a, b = inp(0, (12,), "int32"), inp(1, (12,), "int32")
    av = np.array([2, -2, 3, -3, 0, 1, 5, -1, 7, 2, 10, 4], np.int32)
    bv = np.array([0, 3, 2, 3, 5, 9, 2, 4, 1, 10, 3, 0], np.int32)
    (got,) = check_graph(Graph([a, b], [make("pow", [a, b])]), [av, bv])
    np.testing.assert_array_equal(got, av.astype(np.int64) ** bv)


def test_int_pow_negative_exponent_truncates(check_graph):
    a, b = inp(0, (6,), "int32"), inp(1, (6,), "int32")
    av = np.array([2, -2, 1, -1, -1, 5], np.int32)
    bv = np.array([-1, -1, -3, -3, -2, -2], np.int32)
    (got,) = check_graph(Graph([a, b], [make("pow", [a, b])]), [av, bv])
    np.testing.assert_array_equal(got, np.trunc(av.astype(float) ** bv.astype(float)))


def test_float_mod_floor_semantics(run_graph):
    a, b = inp(0, (6,)), inp(1, (6,))
    av = np.array([5.5, -5.5, 5.5, -5.5, 3.0, -3.0], np.float32)
    bv = np.array([2.0, 2.0, -2.0, -2.0, 1.5, 1.5], np.float32)
    (m, fd) = run_graph(Graph([a, b], [make("mod", [a, b]), make("floor_div", [a, b])]), [av, bv])
    np.testing.assert_allclose(m, np.mod(av, bv), atol=1e-6)
    np.testing.assert_array_equal(fd, np.floor_divide(av, bv))


def test_mixed_dtypes_upcast(check_graph):
    a, b, c = inp(0, (5,), "int32"), inp(1, (5,)), inp(2, (5,), "bool")
    y = make("add", [make("mul", [a, b]), c])
    z = make("mul", [a, 2])  # a python int keeps int32
    assert (y.dtype, z.dtype) == ("float32", "int32")
    check_graph(Graph([a, b, c], [y, z]), [rand_int((5,)), rand((5,)), rand_bool((5,))])


# --- bool, comparisons, where, cast ----------------------------------------------------------
def test_logical_ops(check_graph):
    a, b = inp(0, (33,), "bool"), inp(1, (33,), "bool")
    outs = [
        make("logical_and", [a, b]),
        make("logical_or", [a, b]),
        make("logical_not", [a]),
        make("equal", [a, b]),
        make("mul", [a, b]),
    ]
    av, bv = rand_bool((33,)), rand_bool((33,))
    got = check_graph(Graph([a, b], outs), [av, bv])
    np.testing.assert_array_equal(got[0], av & bv)
    np.testing.assert_array_equal(got[1], av | bv)
    np.testing.assert_array_equal(got[2], ~av)


@pytest.mark.parametrize("op", ["add", "mul", "maximum", "minimum", "pow", "equal"])
def test_bool_arithmetic_stays_zero_one(op, check_graph):
    a, b = inp(0, (4,), "bool"), inp(1, (4,), "bool")
    av, bv = np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool)
    y = make(op, [a, b])
    assert y.dtype == "bool"
    got = check_graph(Graph([a, b], [y, make("cast", [y], dtype="int32")]), [av, bv])[0]
    assert set(got.view(np.uint8).tolist()) <= {0, 1}  # numpy reads any other byte oddly


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_where_broadcast(dtype, check_graph):
    c, a, b = inp(0, (4, 1), "bool"), inp(1, (4, 6), dtype), inp(2, (6,), dtype)
    gen = rand if dtype == "float32" else rand_int
    cv, av, bv = rand_bool((4, 1)), gen((4, 6)), gen((6,))
    (got,) = check_graph(Graph([c, a, b], [make("where", [c, a, b])]), [cv, av, bv])
    np.testing.assert_array_equal(got, np.where(cv, av, bv))


def test_where_from_comparison_and_scalars(check_graph):
    x = inp(0, (3, 1, 7))
    y = make("where", [make("greater", [x, 0.0]), x, -1.0])
    check_graph(Graph([x], [y]), [rand((3, 1, 7))])


CASTS = list(itertools.permutations(["float32", "int32", "bool"], 2))


@pytest.mark.parametrize("src,dst", CASTS)
def test_cast(src, dst, check_graph):
    x = inp(0, (12,), src)
    vals = {
        "float32": np.array(
            [-2.7, -1.5, -0.2, 0.0, 0.3, 1.0, 1.5, 2.9, -0.0, 7.99, -7.99, 3.0], np.float32
        ),
        "int32": np.array([-5, -1, 0, 1, 2, 3, 100, -100, 0, 7, 8, 9], np.int32),
        "bool": np.array([True, False] * 6),
    }[src]
    (got,) = check_graph(Graph([x], [make("cast", [x], dtype=dst)]), [vals])
    np.testing.assert_array_equal(
        got, vals.astype({"float32": np.float32, "int32": np.int32, "bool": bool}[dst])
    )


# --- NaN -------------------------------------------------------------------------------------
def test_nan_propagation(run_graph):
    x, y = inp(0, (4,)), inp(1, (4,))
    xv = np.array([np.nan, 1.0, -1.0, np.nan], np.float32)
    yv = np.array([0.0, np.nan, 2.0, np.nan], np.float32)
    outs = [
        make("relu", [x]),
        make("maximum", [x, y]),
        make("minimum", [x, y]),
        make("sum", [x], axes=0),
        make("max", [y], axes=0),
        make("min", [y], axes=0),
        make("is_nan", [x]),
        make("relu6", [x]),
        make("clip_by_value", [x], clip_value_min=0, clip_value_max=1),
    ]
    got = run_graph(Graph([x, y], outs), [xv, yv])
    np.testing.assert_array_equal(got[0], [np.nan, 1.0, 0.0, np.nan])
    np.testing.assert_array_equal(got[1], [np.nan, np.nan, 2.0, np.nan])
    np.testing.assert_array_equal(got[2], [np.nan, np.nan, -1.0, np.nan])
    assert np.isnan(got[3]) and np.isnan(got[4]) and np.isnan(got[5])
    np.testing.assert_array_equal(got[6], [True, False, False, True])
    assert np.isnan(got[7][[0, 3]]).all() and np.isnan(got[8][[0, 3]]).all()


# --- reductions ------------------------------------------------------------------------------
SHAPE3 = (3, 4, 5)
AXES3 = [None] + [c for r in (1, 2) for c in itertools.combinations(range(3), r)]


@pytest.mark.parametrize("axes", AXES3, ids=str)
@pytest.mark.parametrize("keep_dims", [False, True])
def test_sum_every_axis_combination(axes, keep_dims, run_graph):
    x = inp(0, SHAPE3)
    xv = rand(SHAPE3)
    (got,) = run_graph(Graph([x], [make("sum", [x], axes=axes, keep_dims=keep_dims)]), [xv])
    np.testing.assert_allclose(
        got, xv.astype(np.float64).sum(axis=axes, keepdims=keep_dims), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("op", ["sum", "prod", "max", "min"])
@pytest.mark.parametrize("axes", [(1,), (0, 2), None], ids=str)
def test_reductions_float(op, axes, check_graph):
    x = inp(0, SHAPE3)
    lo, hi = (0.8, 1.2) if op == "prod" else (-3, 3)
    check_graph(Graph([x], [make(op, [x], axes=axes, keep_dims=True)]), [rand(SHAPE3, lo, hi)])


@pytest.mark.parametrize("op", ["sum", "max", "min", "prod"])
def test_reductions_int(op, check_graph):
    x = inp(0, (7, 6), "int32")
    y = make(op, [x], axes=1)
    assert y.dtype == "int32"
    check_graph(Graph([x], [y]), [rand_int((7, 6), -3, 4)])


@pytest.mark.parametrize("op", ["any", "all", "sum"])
def test_reductions_bool(op, check_graph):
    x = inp(0, (5, 3), "bool")
    xv = rand_bool((5, 3))
    xv[0] = True
    xv[1] = False
    y = make(op, [x], axes=1)
    assert y.dtype == ("int32" if op == "sum" else "bool")
    check_graph(Graph([x], [y]), [xv])


@pytest.mark.parametrize("view", ["transpose", "slice", "broadcast", "reverse"])
@pytest.mark.parametrize("axes", [(0,), (1,), None], ids=str)
def test_reduce_non_contiguous(view, axes, check_graph):
    x = inp(0, (6, 7))
    if view == "transpose":
        v = make("transpose", [x])  # (7, 6)
    elif view == "slice":
        v = make("slice", [x], begin=(1, 2), size=(4, 3))
    elif view == "broadcast":
        v = make("broadcast_to", [make("slice", [x], begin=(2, 0), size=(1, 7))], shape=(5, 7))
    else:
        v = make("reverse", [x], axes=(1,))
    check_graph(Graph([x], [make("sum", [v], axes=axes)]), [rand((6, 7))])


def test_reduce_of_elementwise(check_graph):
    x, y = inp(0, (8, 9)), inp(1, (9,))
    check_graph(
        Graph([x, y], [make("max", [make("mul", [x, y])], axes=1)]), [rand((8, 9)), rand((9,))]
    )


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_arg_reductions(op, axis, check_graph):
    x = inp(0, SHAPE3)
    xv = np.round(rand(SHAPE3) * 2)  # ties: the first index wins as in numpy
    (got,) = check_graph(Graph([x], [make(op, [x], axis=axis)]), [xv])
    np.testing.assert_array_equal(got, getattr(np, op)(xv, axis=axis))


def test_arg_reductions_skip_nan_like_tfjs(run_graph):
    x = inp(0, (4, 4))
    xv = np.array(
        [
            [1, np.nan, 3, 2],
            [np.nan, 5, 6, 0],
            [-1, -2, np.nan, -3],
            [np.nan, np.nan, np.nan, np.nan],
        ],
        np.float32,
    )
    (mx, mn) = run_graph(
        Graph([x], [make("argmax", [x], axis=1), make("argmin", [x], axis=1)]), [xv]
    )
    np.testing.assert_array_equal(mx, [2, 0, 0, 0])  # a leading NaN stays, later ones skip
    np.testing.assert_array_equal(mn, [0, 0, 3, 0])


def test_argmax_int_and_transposed(check_graph):
    x = inp(0, (5, 7), "int32")
    check_graph(Graph([x], [make("argmax", [make("transpose", [x])], axis=1)]), [rand_int((5, 7))])


# --- softmax ---------------------------------------------------------------------------------
@pytest.mark.parametrize("d", [1, 7, 1000])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_rows(op, d, check_graph):
    x = inp(0, (3, d))
    xv = rand((3, d), -10, 10)
    (got,) = check_graph(Graph([x], [make(op, [x])]), [xv])
    if op == "softmax":
        np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-5)


def test_softmax_large_logits_and_views(check_graph):
    x = inp(0, (4, 6))
    y = make("softmax", [make("mul", [make("transpose", [x]), 100.0])])
    z = make("log_softmax", [make("slice", [x], begin=(1, 1), size=(2, 5))])
    check_graph(Graph([x], [y, z]), [rand((4, 6))])


# --- movement ops as outputs -----------------------------------------------------------------
MOVES = {
    "transpose": {"perm": (2, 0, 1)},
    "slice": {"begin": (1, 0, 2), "size": (2, 4, 2)},
    "reverse": {"axes": (0, 2)},
    "broadcast_to": {"shape": (2, 3, 4, 5)},
    "reshape": {"shape": (4, 15)},
}


@pytest.mark.parametrize("op", sorted(MOVES))
def test_movement_outputs(op, run_graph):
    x = inp(0, (3, 4, 5))
    xv = rand((3, 4, 5))
    (got,) = run_graph(Graph([x], [make(op, [x], **MOVES[op])]), [xv])
    a = MOVES[op]
    want = {
        "transpose": lambda: np.transpose(xv, a["perm"]),
        "slice": lambda: xv[1:3, 0:4, 2:4],
        "reverse": lambda: xv[::-1, :, ::-1],
        "broadcast_to": lambda: np.broadcast_to(xv, a["shape"]),
        "reshape": lambda: xv.reshape(4, 15),
    }[op]()
    np.testing.assert_array_equal(got, want)


def test_chained_views(run_graph):
    x = inp(0, (6, 8))
    xv = rand((6, 8))
    v = make(
        "reverse", [make("slice", [make("transpose", [x])], begin=(1, 2), size=(5, 3))], axes=(0,)
    )
    (got,) = run_graph(Graph([x], [v]), [xv])
    np.testing.assert_array_equal(got, xv.T[1:6, 2:5][::-1])


def test_reshape_of_transposed_view_copies(run_graph):
    x = inp(0, (4, 6))
    xv = rand((4, 6))
    t = make("transpose", [x])
    outs = [make("reshape", [t], shape=(3, 8)), make("exp", [make("reshape", [t], shape=(24,))])]
    (a, b) = run_graph(Graph([x], outs), [xv])
    np.testing.assert_array_equal(a, xv.T.reshape(3, 8))
    np.testing.assert_allclose(b, np.exp(xv.T.reshape(24)), rtol=1e-6)


def test_input_returned_directly_and_twice(run_graph):
    x = inp(0, (3, 2))
    xv = rand((3, 2))
    y = make("neg", [x])
    a, b, c = run_graph(Graph([x], [x, y, y]), [xv])
    np.testing.assert_array_equal(a, xv)
    np.testing.assert_array_equal(b, -xv)
    np.testing.assert_array_equal(c, -xv)


# --- injective -------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1])
def test_gather_2d_indices(axis, check_graph):
    x, i = inp(0, (10, 4)), inp(1, (2, 3), "int32")
    iv = np.array([[0, 3, 3], [1, 2, 0]], np.int32)
    (got,) = check_graph(Graph([x, i], [make("gather", [x, i], axis=axis)]), [rand((10, 4)), iv])
    assert got.shape == ((2, 3, 4) if axis == 0 else (10, 2, 3))


def test_gather_against_numpy(run_graph):
    x, i = inp(0, (10, 3)), inp(1, (5,), "int32")
    xv, iv = rand((10, 3)), np.array([9, 0, 4, 4, 2], np.int32)
    (got,) = run_graph(Graph([x, i], [make("gather", [x, i])]), [xv, iv])
    np.testing.assert_array_equal(got, xv[iv])


@pytest.mark.parametrize("dtype", ["int32", "float32"])
def test_one_hot(dtype, run_graph):
    i = inp(0, (2, 3), "int32")
    iv = np.array([[0, 4, 2], [-1, 5, 1]], np.int32)  # -1 and 5 are out of range: all off
    y = make("one_hot", [i], depth=5, dtype=dtype, on_value=3, off_value=-1)
    (got,) = run_graph(Graph([i], [y]), [iv])
    want = np.where(iv[..., None] == np.arange(5), 3, -1)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == (np.int32 if dtype == "int32" else np.float32)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_concat_three(axis, run_graph):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for k, s in enumerate(shapes):
        s[axis] = k + 1
    xs = [inp(k, s) for k, s in enumerate(shapes)]
    vals = [rand(s) for s in shapes]
    (got,) = run_graph(Graph(xs, [make("concat", xs, axis=axis)]), vals)
    np.testing.assert_array_equal(got, np.concatenate(vals, axis))


def test_concat_of_views_and_int(check_graph):
    a, b = inp(0, (3, 4), "int32"), inp(1, (4, 2), "int32")
    y = make("concat", [make("reverse", [a], axes=1), make("transpose", [b])], axis=0)
    check_graph(Graph([a, b], [y]), [rand_int((3, 4)), rand_int((4, 2))])


def test_pad(run_graph):
    x = inp(0, (3, 4))
    xv = rand((3, 4))
    y = make("pad", [x], paddings=((1, 2), (0, 3)), value=-7.5)
    z = make("pad", [make("transpose", [x])], paddings=((2, 0), (1, 1)))
    (a, b) = run_graph(Graph([x], [y, z]), [xv])
    np.testing.assert_array_equal(a, np.pad(xv, ((1, 2), (0, 3)), constant_values=-7.5))
    np.testing.assert_array_equal(b, np.pad(xv.T, ((2, 0), (1, 1))))


# --- matmul ----------------------------------------------------------------------------------
@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("mnk", [(1, 1, 1), (7, 33, 5), (40, 17, 65)], ids=str)
def test_matmul_flags_and_ragged_sizes(ta, tb, mnk, check_graph):
    m, n, k = mnk
    a = inp(0, (k, m) if ta else (m, k))
    b = inp(1, (n, k) if tb else (k, n))
    av, bv = rand(a.shape), rand(b.shape)
    (got,) = check_graph(
        Graph([a, b], [make("matmul", [a, b], transpose_a=ta, transpose_b=tb)]), [av, bv]
    )
    np.testing.assert_allclose(
        got, (av.T if ta else av) @ (bv.T if tb else bv), rtol=1e-4, atol=1e-4
    )


def test_matmul_view_operands(check_graph):
    a, b = inp(0, (9, 6)), inp(1, (11, 9))
    at = make("transpose", [a])  # (6, 9), read in place as a transposed operand
    bt = make("transpose", [b])  # (9, 11)
    bs = make("slice", [b], begin=(1, 0), size=(9, 9))  # an offset view: must be copied
    outs = [
        make("matmul", [at, bt]),
        make("matmul", [at, bs], transpose_b=True),
        make("relu", [make("matmul", [bt, at], transpose_a=True, transpose_b=True)]),
    ]
    check_graph(Graph([a, b], outs), [rand((9, 6)), rand((11, 9))])


# --- caching ---------------------------------------------------------------------------------
def _tiny_graph(scale: float) -> Graph:
    x, y = inp(0, (13, 3)), inp(1, (3,))
    z = make("sum", [make("tanh", [make("add", [make("mul", [x, scale]), y])])], axes=1)
    return Graph([x, y], [z])


def test_same_structure_builds_nothing_the_second_time(device):
    first = device.prepare(compile_graph(_tiny_graph(1.75)))
    builds = device.stats["builds"]
    second = device.prepare(compile_graph(_tiny_graph(1.75)))
    assert device.stats["builds"] == builds
    xv, yv = rand((13, 3)), rand((3,))
    outs = [r.run([device.upload(xv), device.upload(yv)])[0] for r in (first, second)]
    a, b = (device.download(o, (13,), np.float32) for o in outs)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, np.tanh(xv * 1.75 + yv).sum(1), rtol=1e-5)
    assert device.stats["builds"] == builds


def test_const_nodes_are_baked(check_graph):
    x = inp(0, (5,))
    y = make("add", [x, make("broadcast_to", [const(2.5)], shape=(5,))])
    check_graph(Graph([x], [y, make("mul", [const(3, "int32"), 2])]), [rand((5,))])


def test_device_kind_is_known():
    assert get_device().kind in ("cpu", "gpu")


def test_sqrt_is_correctly_rounded():
    """The kernels' sqrt (clang's builtin where available) rounds like numpy's, bit for bit,
    over normal, subnormal and huge values, zeros, infinity and NaN."""
    import clflow as tf

    rng = np.random.default_rng(3)
    x = (rng.random(20000, dtype=np.float32) * 10.0 ** rng.integers(-44, 38, 20000)).astype(
        np.float32
    )
    x = np.concatenate([x, np.array([0.0, -0.0, np.inf, -1.0, np.nan], np.float32)])
    got = tf.sqrt(tf.tensor(x)).numpy()
    with np.errstate(invalid="ignore"):
        want = np.sqrt(x)
    np.testing.assert_array_equal(got.view(np.uint32)[:-2], want.view(np.uint32)[:-2])
    assert np.isnan(got[-2:]).all()
