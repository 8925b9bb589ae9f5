"""Every gradient rule against float64 central finite differences through the interpreter.

For a random direction u of one input x: <dL/dx, u> == (L(x + eps u) - L(x - eps u)) / 2 eps with
L = sum(y * w) for a fixed random w (w is the seed of the backward pass).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from clflow.compiler.autodiff import gradients
from clflow.compiler.interpreter import interpret
from clflow.compiler.ir import Graph, IRError, Node
from clflow.compiler.ops import OPS, make

EPS = 1e-6


def M(op, *ins, **attrs):
    return make(op, ins, **attrs)


def inp(k: int, shape, dtype: str = "float32") -> Node:
    return Node("input", (), {"index": k, "role": "input"}, tuple(shape), dtype)


def sample(rng, shape, lo=-2.0, hi=2.0, kinks=()) -> np.ndarray:
    """Uniform values at least 0.05 away from every kink."""
    x = rng.uniform(lo, hi, size=shape)
    for _ in range(100):
        bad = np.zeros(x.shape, bool)
        for k in kinks:
            bad |= np.abs(x - k) < 0.05
        if not bad.any():
            break
        x[bad] = rng.uniform(lo, hi, size=int(bad.sum()))
    return x


def check_grad(build, specs, seed=0, rtol=1e-5, atol=1e-7):
    """``build(*inputs) -> y``; specs: (shape, lo, hi, kinks) or (shape, int array)."""
    rng = np.random.default_rng(seed)
    ins, vals = [], []
    for k, spec in enumerate(specs):
        if isinstance(spec[1], np.ndarray):  # integer operand given verbatim
            ins.append(inp(k, spec[0], "int32"))
            vals.append(spec[1])
        else:
            shape, lo, hi, kinks = (tuple(spec) + ((),))[:4]
            ins.append(inp(k, shape))
            vals.append(sample(rng, shape, lo, hi, kinks))
    y = build(*ins)
    w = inp(len(ins), y.shape)
    wv = rng.standard_normal(y.shape)
    grads = gradients(y, ins, seed=w)
    got = [g for g in grads if g is not None]
    back = Graph(ins + [w], got)
    back.verify()
    gvals = iter(interpret(back, vals + [wv], precision="float64"))
    fwd = Graph(ins, [y])

    def loss(vs):
        return float(np.sum(interpret(fwd, vs, precision="float64")[0] * wv))

    for k, (x, g) in enumerate(zip(ins, grads, strict=True)):
        if x.dtype != "float32":
            assert g is None
            continue
        gv = next(gvals) if g is not None else np.zeros(x.shape)
        assert gv.shape == x.shape
        u = rng.standard_normal(x.shape)
        plus = [v + EPS * u if j == k else v for j, v in enumerate(vals)]
        minus = [v - EPS * u if j == k else v for j, v in enumerate(vals)]
        fd = (loss(plus) - loss(minus)) / (2 * EPS)
        an = float(np.sum(gv * u))
        assert an == pytest.approx(fd, rel=rtol, abs=atol), f"input {k}: {an} vs {fd}"


# --- unary -----------------------------------------------------------------------------------
UNARY = {
    "neg": (-2, 2, ()),
    "abs": (-2, 2, (0,)),
    "exp": (-2, 2, ()),
    "log": (0.2, 3, ()),
    "sqrt": (0.2, 3, ()),
    "rsqrt": (0.2, 3, ()),
    "square": (-2, 2, ()),
    "reciprocal": (0.3, 3, ()),
    "relu": (-2, 2, (0,)),
    "relu6": (-2, 8, (0, 6)),
    "elu": (-2, 2, (0,)),
    "selu": (-2, 2, (0,)),
    "sigmoid": (-4, 4, ()),
    "tanh": (-2, 2, ()),
    "softplus": (-4, 4, ()),
    "sin": (-3, 3, ()),
    "cos": (-3, 3, ()),
    "log1p": (-0.8, 3, ()),
    "expm1": (-2, 2, ()),
    "erf": (-2, 2, ()),
    "leaky_relu": (-2, 2, (0,)),
    "clip_by_value": (-2, 2, (-1, 1.5)),
}
UNARY_ATTRS = {
    "leaky_relu": {"alpha": 0.3},
    "clip_by_value": {"clip_value_min": -1.0, "clip_value_max": 1.5},
}
ZERO_GRAD = ["step", "floor", "ceil", "round", "sign"]


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary(op):
    lo, hi, kinks = UNARY[op]
    check_grad(lambda x: M(op, x, **UNARY_ATTRS.get(op, {})), [((3, 4), lo, hi, kinks)])


@pytest.mark.parametrize("op", ZERO_GRAD)
def test_piecewise_constant_ops_have_zero_gradient(op):
    check_grad(lambda x: M(op, x), [((7,), -2, 2, (-2, -1, -0.5, 0, 0.5, 1, 1.5, 2))])


def test_every_differentiable_op_is_covered():
    covered = (
        set(UNARY)
        | set(BINARY)
        | set(ZERO_GRAD)
        | {
            "sum",
            "prod",
            "max",
            "min",
            "softmax",
            "log_softmax",
            "matmul",
            "slice",
            "pad",
            "concat",
            "reverse",
            "transpose",
            "reshape",
            "broadcast_to",
            "gather",
            "where",
            "cast",
        }
    )
    with_rule = {n for n, d in OPS.items() if d.grad is not None}
    assert with_rule - covered <= {
        "is_nan",
        "logical_not",
        "equal",
        "not_equal",
        "greater",
        "greater_equal",
        "less",
        "less_equal",
        "logical_and",
        "logical_or",
        "floor_div",
        "argmax",
        "argmin",
        "one_hot",
    }


# --- binary with broadcasting ----------------------------------------------------------------
BINARY = {
    "add": (-2, 2),
    "sub": (-2, 2),
    "mul": (-2, 2),
    "div": (0.5, 2),
    "pow": (0.5, 2),
    "maximum": (-2, 2),
    "minimum": (-2, 2),
    "squared_difference": (-2, 2),
    "mod": (0.6, 3),
}
SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((), (3, 4)), ((3, 1), (1, 4))]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_broadcast(op, shapes):
    lo, hi = BINARY[op]
    sa, sb = shapes
    seed = 3
    if op in ("maximum", "minimum"):  # shift b so that no pair ties
        check_grad(
            lambda a, b: M(op, a, M("add", b, 0.013)), [(sa, lo, hi), (sb, lo, hi)], seed=seed
        )
        return
    if op == "mod":  # keep a / b away from integers, where mod jumps
        rng = np.random.default_rng(seed)
        for _ in range(1000):
            av, bv = rng.uniform(lo, hi, sa), rng.uniform(lo, hi, sb)
            q = av / bv
            if np.all(np.abs(q - np.round(q)) > 0.02):
                break
        _check_at(lambda a, b: M("mod", a, b), [inp(0, sa), inp(1, sb)], [av, bv])
        return
    check_grad(lambda a, b: M(op, a, b), [(sa, lo, hi), (sb, lo, hi)], seed=seed)


def _check_at(build, ins, vals, seed=0):
    """Like check_grad but at given float64 input values."""
    rng = np.random.default_rng(seed)
    y = build(*ins)
    w = inp(len(ins), y.shape)
    wv = rng.standard_normal(y.shape)
    grads = gradients(y, ins, seed=w)
    gvals = interpret(Graph(ins + [w], grads), vals + [wv], precision="float64")
    fwd = Graph(ins, [y])
    for k in range(len(ins)):
        u = rng.standard_normal(ins[k].shape)
        f = [
            float(
                np.sum(
                    interpret(
                        fwd,
                        [v + s * EPS * u if j == k else v for j, v in enumerate(vals)],
                        "float64",
                    )[0]
                    * wv
                )
            )
            for s in (1, -1)
        ]
        assert float(np.sum(gvals[k] * u)) == pytest.approx((f[0] - f[1]) / (2 * EPS), rel=1e-5)


def test_pow_negative_base_integer_exponent():
    a, b = inp(0, (5,)), inp(1, (5,))
    av = np.array([-1.5, -0.7, 1.2, -2.0, 0.9])
    _check_at(lambda a, b: M("add", M("pow", a, 3.0), b), [a, b], [av, np.full(5, 3.0)])


def test_where_and_comparison_inputs():
    # c only steers the choice: its gradient is None and its finite difference 0.
    check_grad(
        lambda a, b, c: M("where", M("greater", c, 0.0), a, M("mul", b, 2.0)),
        [((3, 4), -2, 2), ((4,), -2, 2), ((3, 1), -2, 2, (0,))],
    )


def test_cast_float_to_float_and_int_paths():
    check_grad(
        lambda x: M(
            "mul",
            M("cast", x, dtype="float32"),
            M("cast", M("cast", x, dtype="int32"), dtype="float32"),
        ),
        [((6,), 0.1, 3.9, (1, 2, 3))],
    )


def test_node_used_several_times_accumulates():
    check_grad(lambda x: M("add", M("mul", x, x), x), [((5,), -2, 2)])
    check_grad(
        lambda x: M("mul", M("exp", x), M("sum", M("mul", x, M("sin", x)))), [((2, 3), -2, 2)]
    )


def test_gradient_of_input_wrt_itself_and_unrelated():
    x, z = inp(0, (3,)), inp(1, (3,))
    y = M("exp", x)
    gx, gz = gradients(y, [x, z])
    assert gz is None
    got = interpret(Graph([x, z], [gx]), [np.zeros(3), np.zeros(3)], "float64")[0]
    np.testing.assert_allclose(got, np.ones(3))


# --- reductions, softmax, matmul -------------------------------------------------------------
@pytest.mark.parametrize("op", ["sum", "prod", "max", "min"])
@pytest.mark.parametrize(
    "axes,keep",
    [(None, False), ((1,), True), ((0, 2), False), ((2,), False), ((0, 1, 2), True)],
    ids=str,
)
def test_reductions(op, axes, keep):
    lo, hi = (0.5, 1.5) if op == "prod" else (-2, 2)
    check_grad(lambda x: M(op, x, axes=axes, keep_dims=keep), [((2, 3, 4), lo, hi)])


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(5,), (3, 6), (2, 2, 4)], ids=str)
def test_softmax(op, shape):
    check_grad(lambda x: M(op, x), [(shape, -3, 3)])


def test_softmax_cross_entropy_composite():
    check_grad(
        lambda x, t: M("neg", M("sum", M("mul", t, M("log_softmax", x)), axes=1)),
        [((3, 5), -2, 2), ((3, 5), 0, 1)],
    )


@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
def test_matmul_transpose_flags(ta, tb):
    m, n, k = 3, 4, 5
    check_grad(
        lambda a, b: M("matmul", a, b, transpose_a=ta, transpose_b=tb),
        [((k, m) if ta else (m, k), -1, 1), ((n, k) if tb else (k, n), -1, 1)],
    )


def test_dense_layer_chain():
    check_grad(
        lambda x, w, b: M("relu", M("add", M("matmul", x, w), b)),
        [((4, 3), -1, 1), ((3, 5), -1, 1), ((5,), -1, 1)],
        seed=7,
        atol=1e-6,
    )


# --- movement and injective ------------------------------------------------------------------
MOVES = {
    "slice": lambda x: M("slice", x, begin=(1, 0, 2), size=(2, 2, 2)),
    "pad": lambda x: M("pad", x, paddings=((1, 0), (0, 2), (1, 1)), value=3.0),
    "reverse": lambda x: M("reverse", x, axes=(0, 2)),
    "transpose": lambda x: M("transpose", x, perm=(2, 0, 1)),
    "reshape": lambda x: M("reshape", x, shape=(6, 4)),
    "broadcast_to": lambda x: M(
        "broadcast_to", M("slice", x, begin=(0, 1, 0), size=(3, 1, 4)), shape=(2, 3, 5, 4)
    ),
}


@pytest.mark.parametrize("op", sorted(MOVES))
def test_movement(op):
    check_grad(MOVES[op], [((3, 2, 4), -2, 2)])


@pytest.mark.parametrize("axis", [0, 1])
def test_concat_three(axis):
    shapes = [(2, 3), (1, 3), (3, 3)] if axis == 0 else [(2, 1), (2, 4), (2, 2)]
    check_grad(lambda a, b, c: M("concat", a, b, c, axis=axis), [(s, -2, 2) for s in shapes])


def test_gather_axis0_repeated_indices_accumulate():
    idx = np.array([[0, 3], [3, 1], [0, 0]], np.int32)
    check_grad(lambda x, i: M("gather", x, i), [((4, 5), -2, 2), ((3, 2), idx)])


def test_gather_other_axis_is_not_differentiable():
    x, i = inp(0, (4, 5)), inp(1, (2,), "int32")
    assert gradients(M("gather", x, i, axis=1), [x]) == [None]


def test_rule_giving_a_wrong_shape_is_reported():
    x = inp(0, (3,))
    y = M("exp", x)
    rule = OPS["exp"].grad
    try:
        OPS["exp"].grad = lambda n, g: [M("sum", g)]
        with pytest.raises(IRError, match=r"gradient rule of exp gave shape \[\] .* \[3\]"):
            gradients(y, [x])
    finally:
        OPS["exp"].grad = rule


def test_missing_rule_names_the_node():
    x = inp(0, (3,))
    y = M("exp", x)
    rule = OPS["exp"].grad
    try:
        OPS["exp"].grad = None
        with pytest.raises(IRError, match="no gradient rule for .*= exp"):
            gradients(y, [x])
    finally:
        OPS["exp"].grad = rule
