"""Elementwise ops: C template, numpy reference and gradient, one table row each.

Templates are C expressions over ``{0}``, ``{1}``, ... (already-computed operand values of the
op's dtype). NaN propagates as in numpy and TF.js: comparisons are written so that NaN falls
through to the operand (``relu(NaN)`` is NaN).
"""

from __future__ import annotations

import math

import numpy as np

from .ir import IRError
from .ops import ELEMENTWISE, OpDef, broadcast_shapes, const, make, register, sum_to

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def M(op, *ins, **attrs):
    return make(op, ins, **attrs)


def mask(cond):
    """A bool node as a float 0/1 multiplier."""
    return M("cast", cond, dtype="float32")


def _same(types, attrs):
    shape = types[0][0]
    for s, _ in types[1:]:
        shape = broadcast_shapes(shape, s)
    return shape, types[0][1]


def _to_bool(types, attrs):
    return _same(types, attrs)[0], "bool"


def unary(name, c, ref, grad=None, float_only=True, infer=_same, **kw):
    register(OpDef(name, ELEMENTWISE, infer, ref, grad, c, 1, float_only, **kw))


def _named(name, infer):
    """The shape rule with the op's name in its errors (``add: ... shapes [2] and [3]``)."""

    def rule(types, attrs):
        try:
            return infer(types, attrs)
        except IRError as e:
            raise IRError(f"{name}: {e}") from None

    return rule


def binary(name, c, ref, grad=None, infer=_same, float_only=False):
    register(OpDef(name, ELEMENTWISE, _named(name, infer), ref, grad, c, 2, float_only))


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


# --- unary -----------------------------------------------------------------------------------
unary("neg", "(-{0})", np.negative, lambda n, g: [M("neg", g)], float_only=False)
unary(
    "abs",
    {"float32": "fabs({0})", "int32": "abs({0})"},
    np.abs,
    lambda n, g: [M("mul", g, M("sign", n.inputs[0]))],
    float_only=False,
)
unary(
    "sign",
    {
        "float32": "({0} > 0.0f ? 1.0f : ({0} < 0.0f ? -1.0f : {0}))",
        "int32": "({0} > 0 ? 1 : ({0} < 0 ? -1 : 0))",
    },
    np.sign,
    lambda n, g: [None],  # piecewise constant, like floor: zero gradient (TF.js)
    float_only=False,
)
unary("exp", "exp({0})", np.exp, lambda n, g: [M("mul", g, n)])
unary("log", "log({0})", np.log, lambda n, g: [M("div", g, n.inputs[0])])
unary("sqrt", "sqrt_f({0})", np.sqrt, lambda n, g: [M("div", g, M("mul", n, 2.0))])
unary(
    "rsqrt",
    "rsqrt({0})",
    lambda x: 1.0 / np.sqrt(x),
    lambda n, g: [M("mul", g, M("mul", M("div", n, n.inputs[0]), -0.5))],
)
unary(
    "square",
    "({0} * {0})",
    np.square,
    lambda n, g: [M("mul", g, M("mul", n.inputs[0], 2))],
    float_only=False,
)
unary(
    "reciprocal",
    "(1.0f / {0})",
    np.reciprocal,
    lambda n, g: [M("neg", M("mul", g, M("square", n)))],
)
unary(
    "relu",
    {"float32": "({0} < 0.0f ? 0.0f : {0})", "int32": "({0} < 0 ? 0 : {0})"},
    lambda x: np.where(x < 0, 0, x).astype(x.dtype),
    lambda n, g: [M("mul", g, M("step", n.inputs[0]))],
    float_only=False,
)
unary(
    "relu6",
    "({0} < 0.0f ? 0.0f : ({0} > 6.0f ? 6.0f : {0}))",
    lambda x: np.where(x < 0, 0, np.where(x > 6, 6, x)),
    lambda n, g: [
        M(
            "mul",
            g,
            mask(M("logical_and", M("greater", n.inputs[0], 0.0), M("less", n.inputs[0], 6.0))),
        )
    ],
)
unary(
    "step",
    "({0} > 0.0f ? 1.0f : 0.0f)",
    lambda x: (x > 0).astype(x.dtype),
    lambda n, g: [None],
    doc="1 where x > 0, else 0 (relu's derivative)",
)
unary(
    "elu",
    "({0} > 0.0f ? {0} : (exp({0}) - 1.0f))",
    lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    lambda n, g: [M("mul", g, M("where", M("greater", n.inputs[0], 0.0), 1.0, M("add", n, 1.0)))],
)
unary(
    "selu",
    f"({{0}} > 0.0f ? {SELU_SCALE}f * {{0}} : {SELU_SCALE * SELU_ALPHA}f * (exp({{0}}) - 1.0f))",
    lambda x: np.where(x > 0, SELU_SCALE * x, SELU_SCALE * SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    lambda n, g: [
        M(
            "mul",
            g,
            M(
                "where",
                M("greater", n.inputs[0], 0.0),
                SELU_SCALE,
                M("add", n, SELU_SCALE * SELU_ALPHA),
            ),
        )
    ],
)
unary(
    "sigmoid",
    "(1.0f / (1.0f + exp(-{0})))",
    _sigmoid,
    lambda n, g: [M("mul", g, M("mul", n, M("sub", 1.0, n)))],
)
unary("tanh", "tanh({0})", np.tanh, lambda n, g: [M("mul", g, M("sub", 1.0, M("square", n)))])
unary(
    "softplus",
    "(({0} > 0.0f ? {0} : 0.0f) + log1p(exp(-fabs({0}))))",
    lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))),
    lambda n, g: [M("mul", g, M("sigmoid", n.inputs[0]))],
)
unary("sin", "sin({0})", np.sin, lambda n, g: [M("mul", g, M("cos", n.inputs[0]))])
unary("cos", "cos({0})", np.cos, lambda n, g: [M("neg", M("mul", g, M("sin", n.inputs[0])))])
unary("log1p", "log1p({0})", np.log1p, lambda n, g: [M("div", g, M("add", n.inputs[0], 1.0))])
unary("expm1", "expm1({0})", np.expm1, lambda n, g: [M("mul", g, M("add", n, 1.0))])
unary(
    "erf",
    "erf({0})",
    _erf,
    lambda n, g: [
        M("mul", g, M("mul", M("exp", M("neg", M("square", n.inputs[0]))), 2 / math.sqrt(math.pi)))
    ],
)
unary("floor", "floor({0})", np.floor, lambda n, g: [None])
unary("ceil", "ceil({0})", np.ceil, lambda n, g: [None])
unary("round", "rint({0})", np.round, lambda n, g: [None])


def _leaky_norm(ins, attrs):
    return {"alpha": float(attrs.get("alpha", 0.2))}


unary(
    "leaky_relu",
    "({0} < 0.0f ? {alpha}f * {0} : {0})",
    lambda x, alpha: np.where(x < 0, alpha * x, x),
    lambda n, g: [M("mul", g, M("where", M("greater", n.inputs[0], 0.0), 1.0, n.attrs["alpha"]))],
    normalize=_leaky_norm,
)


def _clip_norm(ins, attrs):
    lo, hi = float(attrs["clip_value_min"]), float(attrs["clip_value_max"])
    if lo > hi:
        raise IRError(f"clip_by_value: clip_value_min ({lo}) must be <= clip_value_max ({hi})")
    return {"clip_value_min": lo, "clip_value_max": hi}


unary(
    "clip_by_value",
    "({0} < {clip_value_min}f ? {clip_value_min}f : ({0} > {clip_value_max}f ? "
    "{clip_value_max}f : {0}))",
    lambda x, clip_value_min, clip_value_max: np.where(
        x < clip_value_min, clip_value_min, np.where(x > clip_value_max, clip_value_max, x)
    ),
    lambda n, g: [
        M(
            "mul",
            g,
            mask(
                M(
                    "logical_and",
                    M("greater_equal", n.inputs[0], n.attrs["clip_value_min"]),
                    M("less_equal", n.inputs[0], n.attrs["clip_value_max"]),
                )
            ),
        )
    ],
    normalize=_clip_norm,
)
unary(
    "logical_not",
    "(!{0})",
    np.logical_not,
    lambda n, g: [None],
    float_only=False,
    infer=_to_bool,
)
unary("is_nan", "isnan({0})", np.isnan, lambda n, g: [None], infer=_to_bool)


def _cast_ref(x, dtype):
    if dtype == "float32" and x.dtype.kind == "f":
        return x  # keeps the interpreter's float64 mode in float64 (a f32->f32 cast is a no-op)
    return x.astype(np.float32 if dtype == "float32" else np.int32 if dtype == "int32" else bool)


register(
    OpDef(
        "cast",
        ELEMENTWISE,
        lambda types, attrs: (types[0][0], attrs["dtype"]),
        _cast_ref,
        lambda n, g: [g if n.inputs[0].dtype == "float32" and n.dtype == "float32" else None],
        None,  # rendered specially: the conversion depends on both dtypes
        1,
    )
)

# --- binary ----------------------------------------------------------------------------------
binary(
    "add",
    "({0} + {1})",
    np.add,
    lambda n, g: [sum_to(g, n.inputs[0].shape), sum_to(g, n.inputs[1].shape)],
)
binary(
    "sub",
    "({0} - {1})",
    np.subtract,
    lambda n, g: [sum_to(g, n.inputs[0].shape), sum_to(M("neg", g), n.inputs[1].shape)],
)
binary(
    "mul",
    {"bool": "({0} && {1})", None: "({0} * {1})"},
    np.multiply,
    lambda n, g: [
        sum_to(M("mul", g, n.inputs[1]), n.inputs[0].shape),
        sum_to(M("mul", g, n.inputs[0]), n.inputs[1].shape),
    ],
)


def _div_ref(a, b):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        with np.errstate(divide="ignore"):
            return np.floor_divide(a, np.where(b == 0, 1, b)) * (b != 0)
    return np.divide(a, b)


binary(
    "div",
    {"int32": "floordiv_i({0}, {1})", None: "({0} / {1})"},
    _div_ref,
    lambda n, g: [
        sum_to(M("div", g, n.inputs[1]), n.inputs[0].shape),
        sum_to(M("neg", M("div", M("mul", g, n), n.inputs[1])), n.inputs[1].shape),
    ],
)
binary(
    "floor_div",
    {"int32": "floordiv_i({0}, {1})", None: "floor({0} / {1})"},
    lambda a, b: _div_ref(a, b) if a.dtype.kind in "iu" else np.floor(a / b),
    lambda n, g: [None, None],
)
binary(
    "mod",
    {"int32": "mod_i({0}, {1})", None: "mod_f({0}, {1})"},
    lambda a, b: np.mod(a, b),
    lambda n, g: [
        sum_to(g, n.inputs[0].shape),
        sum_to(M("neg", M("mul", g, M("floor_div", n.inputs[0], n.inputs[1]))), n.inputs[1].shape),
    ],
)


def _pow_grad(n, g):
    a, b = n.inputs
    da = M("mul", g, M("mul", b, M("pow", a, M("sub", b, 1.0))))
    safe_log = M(
        "where", M("greater", a, 0.0), M("log", M("where", M("greater", a, 0.0), a, 1.0)), 0.0
    )
    db = M("mul", g, M("mul", n, safe_log))
    return [sum_to(da, a.shape), sum_to(db, b.shape)]


def _pow_ref(a, b):
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        return np.power(a, b)
    # numpy refuses negative integer exponents; pow_i truncates like int(a ** b) (TF.js).
    neg = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 1, -1, 1), 0))
    return np.where(b < 0, neg, np.power(a, np.abs(b))).astype(a.dtype)


binary(
    "pow",
    {"int32": "pow_i({0}, {1})", "bool": "({0} || !{1})", None: "pow({0}, {1})"},
    _pow_ref,
    _pow_grad,
)


def _minmax_grad(first_cmp, second_cmp):
    def grad(n, g):
        a, b = n.inputs
        return [
            sum_to(M("mul", g, mask(M(first_cmp, a, b))), a.shape),
            sum_to(M("mul", g, mask(M(second_cmp, a, b))), b.shape),
        ]

    return grad


binary(
    "maximum",
    {"float32": "max_nan({0}, {1})", None: "max({0}, {1})"},
    np.maximum,
    _minmax_grad("greater_equal", "less"),
)
binary(
    "minimum",
    {"float32": "min_nan({0}, {1})", None: "min({0}, {1})"},
    np.minimum,
    _minmax_grad("less_equal", "greater"),
)
binary(
    "squared_difference",
    "(({0} - {1}) * ({0} - {1}))",
    lambda a, b: np.square(a - b),
    lambda n, g: [
        sum_to(M("mul", g, M("mul", M("sub", n.inputs[0], n.inputs[1]), 2.0)), n.inputs[0].shape),
        sum_to(M("mul", g, M("mul", M("sub", n.inputs[1], n.inputs[0]), 2.0)), n.inputs[1].shape),
    ],
)
for _name, _sym, _np in [
    ("equal", "==", np.equal),
    ("not_equal", "!=", np.not_equal),
    ("greater", ">", np.greater),
    ("greater_equal", ">=", np.greater_equal),
    ("less", "<", np.less),
    ("less_equal", "<=", np.less_equal),
]:
    binary(_name, f"({{0}} {_sym} {{1}})", _np, lambda n, g: [None, None], infer=_to_bool)
binary("logical_and", "({0} && {1})", np.logical_and, lambda n, g: [None, None], infer=_to_bool)
binary("logical_or", "({0} || {1})", np.logical_or, lambda n, g: [None, None], infer=_to_bool)


def _where_infer(types, attrs):
    shape = broadcast_shapes(broadcast_shapes(types[0][0], types[1][0]), types[2][0])
    return shape, types[1][1]


def _where_grad(n, g):
    c, a, b = n.inputs
    zero = const(0.0, g.dtype)
    return [None, sum_to(M("where", c, g, zero), a.shape), sum_to(M("where", c, zero, g), b.shape)]


register(
    OpDef(
        "where",
        ELEMENTWISE,
        _named("where", _where_infer),
        lambda c, a, b: np.where(c, a, b),
        _where_grad,
        "({0} ? {1} : {2})",
        3,
    )
)
