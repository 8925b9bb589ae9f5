"""The op functions of ``tf`` (also installed as Tensor methods) and tensor creation."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from .compiler.ir import IRError, Node
from .compiler.ops import const, make, norm_axes
from .tensor import Tensor, check_dtype, op, tensor, to_node, wrap

UNARY = [
    "neg",
    "abs",
    "sign",
    "exp",
    "log",
    "sqrt",
    "rsqrt",
    "square",
    "reciprocal",
    "relu",
    "relu6",
    "elu",
    "selu",
    "sigmoid",
    "tanh",
    "softplus",
    "sin",
    "cos",
    "log1p",
    "expm1",
    "erf",
    "floor",
    "ceil",
    "round",
    "logical_not",
    "is_nan",
    "step",
]
BINARY = [
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "maximum",
    "minimum",
    "squared_difference",
    "floor_div",
    "mod",
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_or",
]


def _unary(name: str):
    def f(x: Any) -> Tensor:
        return op(name, x)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}``."
    return f


def _binary(name: str):
    def f(a: Any, b: Any) -> Tensor:
        return op(name, a, b)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}`` with numpy broadcasting."
    return f


_g = globals()
for _n in UNARY:
    _g[_n] = _unary(_n)
for _n in BINARY:
    _g[_n] = _binary(_n)
sub = _g["sub"]
mul = _g["mul"]
add = _g["add"]


def multiply(a, b):
    return mul(a, b)


def subtract(a, b):
    return sub(a, b)


def divide(a, b):
    return op("div", a, b)


def negative(x):
    return op("neg", x)


def leaky_relu(x: Any, alpha: float = 0.2) -> Tensor:
    return op("leaky_relu", x, alpha=alpha)


def clip_by_value(x: Any, clip_value_min: float, clip_value_max: float) -> Tensor:
    return op("clip_by_value", x, clip_value_min=clip_value_min, clip_value_max=clip_value_max)


def cast(x: Any, dtype: str) -> Tensor:
    from .compiler.ops import cast as _cast

    return wrap(_cast(_as_node(x), check_dtype(dtype)))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    return op("where", condition, a, b)


def add_n(tensors: Sequence[Any]) -> Tensor:
    if not tensors:
        raise ValueError("add_n needs at least one tensor")
    out = tensors[0] if isinstance(tensors[0], Tensor) else tensor(tensors[0])
    for t in tensors[1:]:
        out = add(out, t)
    return out


def _as_node(x: Any) -> Node:
    n = to_node(x)
    return n if isinstance(n, Node) else const(n)


# --- matmul, softmax -------------------------------------------------------------------------
def mat_mul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False) -> Tensor:
    """Matrix product of rank-2 tensors, optionally transposing either operand (read in place).

    Example:
        >>> tf.mat_mul(x, w).shape
    """
    return op("matmul", a, b, transpose_a=transpose_a, transpose_b=transpose_b)


def dot(a: Any, b: Any) -> Tensor:
    ta, tb = _as_node(a), _as_node(b)
    if len(ta.shape) == 1 and len(tb.shape) == 1:
        return sum(mul(wrap(ta), wrap(tb)))
    a2 = wrap(ta) if len(ta.shape) == 2 else reshape(wrap(ta), [1, -1])
    b2 = wrap(tb) if len(tb.shape) == 2 else reshape(wrap(tb), [-1, 1])
    out = mat_mul(a2, b2)
    if len(ta.shape) == 1 or len(tb.shape) == 1:
        return reshape(out, [-1])
    return out


def softmax(logits: Any, dim: int = -1) -> Tensor:
    return op("softmax", logits, axis=dim)


def log_softmax(logits: Any, axis: int = -1) -> Tensor:
    return op("log_softmax", logits, axis=axis)


# --- reductions ------------------------------------------------------------------------------
def _reduce(name: str, x: Any, axis, keep_dims: bool) -> Tensor:
    return op(name, x, axes=axis, keep_dims=keep_dims)


def sum(x: Any, axis=None, keep_dims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (an int, a list, or None for all). bool sums to int32."""
    return _reduce("sum", x, axis, keep_dims)


def prod(x: Any, axis=None, keep_dims: bool = False) -> Tensor:
    return _reduce("prod", x, axis, keep_dims)


def max(x: Any, axis=None, keep_dims: bool = False) -> Tensor:  # noqa: A001
    return _reduce("max", x, axis, keep_dims)


def min(x: Any, axis=None, keep_dims: bool = False) -> Tensor:  # noqa: A001
    return _reduce("min", x, axis, keep_dims)


def any(x: Any, axis=None, keep_dims: bool = False) -> Tensor:  # noqa: A001
    return _reduce("any", x, axis, keep_dims)


def all(x: Any, axis=None, keep_dims: bool = False) -> Tensor:  # noqa: A001
    return _reduce("all", x, axis, keep_dims)


def mean(x: Any, axis=None, keep_dims: bool = False) -> Tensor:
    """Mean over ``axis``; integer inputs give float32."""
    n = _as_node(x)
    axes = norm_axes(axis, len(n.shape), "mean")
    count = 1
    for a in axes:
        count *= n.shape[a]
    s = _reduce("sum", cast(wrap(n), "float32"), axes, keep_dims)
    return mul(s, 1.0 / count) if count else op("div", s, 0.0)


def arg_max(x: Any, axis: int = 0) -> Tensor:
    return op("argmax", x, axis=axis)


def arg_min(x: Any, axis: int = 0) -> Tensor:
    return op("argmin", x, axis=axis)


def norm(x: Any, ord="euclidean", axis=None, keep_dims: bool = False) -> Tensor:  # noqa: A002
    if ord in ("euclidean", "fro", 2):
        return sqrt(sum(square(x), axis, keep_dims))  # noqa: F821
    if ord == 1:
        return sum(abs(x), axis, keep_dims)  # noqa: F821
    if ord in (np.inf, "inf"):
        return max(abs(x), axis, keep_dims)  # noqa: F821
    raise ValueError(f"norm: unsupported ord {ord!r}; expected 'euclidean', 1 or inf")


def log_sum_exp(x: Any, axis=None, keep_dims: bool = False) -> Tensor:
    n = _as_node(x)
    axes = norm_axes(axis, len(n.shape), "log_sum_exp")
    m = max(wrap(n), axes, True)
    s = log(sum(exp(sub(wrap(n), m)), axes, True))  # noqa: F821
    out = add(s, m)
    return out if keep_dims else reshape(out, [d for i, d in enumerate(n.shape) if i not in axes])


# --- movement --------------------------------------------------------------------------------
def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    return op("reshape", x, shape=tuple(shape))


def flatten(x: Any) -> Tensor:
    return reshape(x, [-1])


def transpose(x: Any, perm: Sequence[int] | None = None) -> Tensor:
    return op("transpose", x, perm=None if perm is None else tuple(perm))


def expand_dims(x: Any, axis: int = 0) -> Tensor:
    n = _as_node(x)
    rank = len(n.shape)
    if not -rank - 1 <= axis <= rank:
        raise IRError(f"expand_dims: axis {axis} is out of range for a tensor of rank {rank}")
    axis = axis % (rank + 1)
    return reshape(wrap(n), n.shape[:axis] + (1,) + n.shape[axis:])


def squeeze(x: Any, axis: Sequence[int] | int | None = None) -> Tensor:
    n = _as_node(x)
    if axis is None:
        axes = [i for i, s in enumerate(n.shape) if s == 1]
    else:
        axes = list(norm_axes(axis, len(n.shape), "squeeze"))
        for a in axes:
            if n.shape[a] != 1:
                raise IRError(
                    f"squeeze: axis {a} has size {n.shape[a]}, expected 1 (shape {list(n.shape)})"
                )
    return reshape(wrap(n), [s for i, s in enumerate(n.shape) if i not in axes])


def slice(x: Any, begin, size=None) -> Tensor:  # noqa: A001
    return op("slice", x, begin=begin, size=size)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    n = _as_node(x)
    if len(shape) > len(n.shape):
        n = make("reshape", [n], shape=(1,) * (len(shape) - len(n.shape)) + n.shape)
    return wrap(make("broadcast_to", [n], shape=tuple(shape)))


def reverse(x: Any, axis=None) -> Tensor:
    return op("reverse", x, axes=axis)


def pad(x: Any, paddings, constant_value: float = 0) -> Tensor:
    return op("pad", x, paddings=tuple(tuple(p) for p in paddings), value=constant_value)


def concat(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError("concat takes a non-empty list of tensors")
    return wrap(make("concat", [_as_node(t) for t in tensors], axis=axis))


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError("stack takes a non-empty list of tensors")
    nodes = [_as_node(t) for t in tensors]
    for n in nodes[1:]:
        if n.shape != nodes[0].shape:
            raise IRError(
                f"stack: all tensors must have the same shape, got {[list(m.shape) for m in nodes]}"
            )
    return concat([expand_dims(wrap(n), axis) for n in nodes], axis)


def unstack(x: Any, axis: int = 0) -> list[Tensor]:
    n = _as_node(x)
    axis = norm_axes(axis, len(n.shape), "unstack")[0]
    out = []
    for i in range(n.shape[axis]):
        begin = [0] * len(n.shape)
        begin[axis] = i
        size = list(n.shape)
        size[axis] = 1
        out.append(squeeze(slice(wrap(n), begin, size), [axis]))
    return out


def split(x: Any, num_or_size_splits, axis: int = 0) -> list[Tensor]:
    n = _as_node(x)
    axis = norm_axes(axis, len(n.shape), "split")[0]
    dim = n.shape[axis]
    if isinstance(num_or_size_splits, int):
        if dim % num_or_size_splits:
            raise IRError(
                f"split: axis {axis} of size {dim} is not divisible by {num_or_size_splits}"
            )
        sizes = [dim // num_or_size_splits] * num_or_size_splits
    else:
        sizes = list(num_or_size_splits)
        if -1 in sizes:
            sizes[sizes.index(-1)] = dim - builtins.sum(s for s in sizes if s != -1)
        if builtins.sum(sizes) != dim:
            raise IRError(f"split: sizes {sizes} do not add up to {dim}")
    out, start = [], 0
    for s in sizes:
        begin = [0] * len(n.shape)
        begin[axis] = start
        size = list(n.shape)
        size[axis] = s
        out.append(slice(wrap(n), begin, size))
        start += s
    return out


def tile(x: Any, reps: Sequence[int]) -> Tensor:
    n = _as_node(x)
    if len(reps) != len(n.shape):
        raise IRError(f"tile: reps {list(reps)} must have one entry per axis of {list(n.shape)}")
    inter = []
    for s, r in zip(n.shape, reps, strict=True):
        inter += [r, s]
    expanded = reshape(wrap(n), [v for s in n.shape for v in (1, s)])
    return reshape(
        broadcast_to(expanded, inter), [s * r for s, r in zip(n.shape, reps, strict=True)]
    )


def gather(x: Any, indices: Any, axis: int = 0) -> Tensor:
    idx = indices if isinstance(indices, Tensor) else tensor(np.asarray(indices, dtype=np.int32))
    return op("gather", x, idx, axis=axis)


def one_hot(
    indices: Any, depth: int, on_value: float = 1, off_value: float = 0, dtype: str = "int32"
) -> Tensor:
    idx = indices if isinstance(indices, Tensor) else tensor(np.asarray(indices, dtype=np.int32))
    return op(
        "one_hot",
        idx,
        depth=depth,
        on_value=on_value,
        off_value=off_value,
        dtype=check_dtype(dtype),
    )


def getitem(x: Tensor, key: Any) -> Tensor:
    """Basic indexing: ints, slices with step 1 or -1, None and Ellipsis."""
    if not isinstance(key, tuple):
        key = (key,)
    shape = x.shape
    if builtins.sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis")
    n_real = builtins.sum(1 for k in key if k is not None and k is not Ellipsis)
    if n_real > len(shape):
        raise IndexError(f"too many indices ({n_real}) for a tensor of rank {len(shape)}")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (builtins.slice(None),) * (len(shape) - n_real) + key[i + 1 :]
    begin, size, out_shape, flips = [], [], [], []
    dim = 0
    for k in key:
        if k is None:
            out_shape.append(1)
            continue
        d = shape[dim]
        if isinstance(k, builtins.slice):
            start, stop, step = k.indices(d)
            if step not in (1, -1):
                raise IndexError("only slices with step 1 or -1 are supported")
            if step == -1:
                flips.append(dim)
                start, stop = stop + 1, start + 1
            ln = builtins.max(0, stop - start)
            begin.append(start)
            size.append(ln)
            out_shape.append(ln)
        else:
            i = int(k)
            if not -d <= i < d:
                raise IndexError(f"index {i} is out of bounds for axis {dim} with size {d}")
            begin.append(i % d)
            size.append(1)
        dim += 1
    for d in shape[dim:]:
        begin.append(0)
        size.append(d)
        out_shape.append(d)
    out = slice(x, begin, size)
    if flips:
        out = reverse(out, flips)
    return reshape(out, out_shape)


# --- creation --------------------------------------------------------------------------------
def fill(shape: Sequence[int], value: Any, dtype: str | None = None) -> Tensor:
    """A tensor of ``shape`` filled with ``value`` (computed on the device, nothing uploaded)."""
    dtype = check_dtype(dtype) or ("bool" if isinstance(value, bool) else "float32")
    shape = tuple(int(s) for s in shape)
    if any_negative(shape):
        raise ValueError(f"fill: shape {list(shape)} has a negative dimension")
    c = const(value, dtype)
    return wrap(make("broadcast_to", [c], shape=shape) if shape else c)


def any_negative(shape) -> bool:
    return builtins.any(s < 0 for s in shape)


def zeros(shape: Sequence[int], dtype: str = "float32") -> Tensor:
    return fill(shape, 0, dtype)


def ones(shape: Sequence[int], dtype: str = "float32") -> Tensor:
    return fill(shape, 1, dtype)


def zeros_like(x: Tensor) -> Tensor:
    return fill(x.shape, 0, x.dtype)


def ones_like(x: Tensor) -> Tensor:
    return fill(x.shape, 1, x.dtype)


def range(start, stop=None, step=1, dtype: str = "float32") -> Tensor:  # noqa: A001
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("range: step must not be 0")
    return tensor(np.arange(start, stop, step), dtype=dtype)


def linspace(start: float, stop: float, num: int) -> Tensor:
    if num < 1:
        raise ValueError(f"linspace: num must be >= 1, got {num}")
    return tensor(np.linspace(start, stop, num), dtype="float32")


def eye(num_rows: int, num_columns: int | None = None, dtype: str = "float32") -> Tensor:
    return tensor(np.eye(num_rows, num_columns), dtype=dtype)


_rng = np.random.default_rng()


def _generator(seed) -> np.random.Generator:
    return _rng if seed is None else np.random.default_rng(int(seed))


def _check_shape(shape) -> tuple[int, ...]:
    shape = tuple(int(s) for s in shape)
    if any_negative(shape):
        raise ValueError(f"shape {list(shape)} has a negative dimension")
    return shape


def random_normal(
    shape, mean: float = 0.0, stddev: float = 1.0, dtype: str = "float32", seed: int | None = None
) -> Tensor:
    """Normally distributed values; the same ``seed`` gives the same values run to run."""
    vals = _generator(seed).normal(mean, stddev, _check_shape(shape))
    return tensor(vals, dtype=check_dtype(dtype))


def truncated_normal(
    shape, mean: float = 0.0, stddev: float = 1.0, dtype: str = "float32", seed: int | None = None
) -> Tensor:
    """Normal values re-drawn when more than two standard deviations from the mean."""
    rng = _generator(seed)
    shape = _check_shape(shape)
    vals = rng.normal(0.0, 1.0, shape)
    bad = np.abs(vals) > 2
    while bad.any():
        vals[bad] = rng.normal(0.0, 1.0, int(bad.sum()))
        bad = np.abs(vals) > 2
    return tensor(mean + stddev * vals, dtype=check_dtype(dtype))


def random_uniform(
    shape, minval: float = 0.0, maxval: float = 1.0, dtype: str = "float32", seed: int | None = None
) -> Tensor:
    """Uniform values in [minval, maxval)."""
    rng = _generator(seed)
    shape = _check_shape(shape)
    dtype = check_dtype(dtype)
    if dtype == "int32":
        return tensor(rng.integers(int(minval), int(maxval), shape).astype(np.int32))
    return tensor(rng.uniform(minval, maxval, shape), dtype=dtype)


def set_seed(seed: int) -> None:
    """Seed the global generator used by unseeded random ops."""
    global _rng
    _rng = np.random.default_rng(seed)


def clone(x: Tensor) -> Tensor:
    return wrap(x.node)


CREATION = [
    "fill",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "range",
    "linspace",
    "eye",
    "random_normal",
    "truncated_normal",
    "random_uniform",
    "set_seed",
]

# Ops that are Tensor methods too (x.relu(), x.mat_mul(w), ...).
METHODS = (
    UNARY
    + BINARY
    + [
        "mat_mul",
        "dot",
        "softmax",
        "log_softmax",
        "sum",
        "prod",
        "max",
        "min",
        "any",
        "all",
        "mean",
        "arg_max",
        "arg_min",
        "norm",
        "log_sum_exp",
        "reshape",
        "flatten",
        "transpose",
        "expand_dims",
        "squeeze",
        "slice",
        "broadcast_to",
        "reverse",
        "pad",
        "tile",
        "gather",
        "one_hot",
        "cast",
        "leaky_relu",
        "clip_by_value",
        "unstack",
        "split",
        "clone",
    ]
)


def _install_methods() -> None:
    g = globals()
    for name in METHODS:
        setattr(Tensor, name, g[name])
    Tensor.as_type = cast
    Tensor.to_float = lambda self: cast(self, "float32")
    Tensor.to_int = lambda self: cast(self, "int32")
    Tensor.to_bool = lambda self: cast(self, "bool")
    Tensor.as_1d = lambda self: reshape(self, [-1])
    Tensor.as_scalar = lambda self: reshape(self, [])
    Tensor.as_2d = lambda self, rows, cols: reshape(self, [rows, cols])
    Tensor.where = lambda self, cond, other: where(cond, self, other)
    ops = {
        "__add__": lambda a, b: add(a, b),
        "__radd__": lambda a, b: add(b, a),
        "__sub__": lambda a, b: sub(a, b),
        "__rsub__": lambda a, b: sub(b, a),
        "__mul__": lambda a, b: mul(a, b),
        "__rmul__": lambda a, b: mul(b, a),
        "__truediv__": lambda a, b: op("div", cast(a, "float32"), b),
        "__rtruediv__": lambda a, b: op("div", b, cast(a, "float32")),
        "__floordiv__": lambda a, b: op("floor_div", a, b),
        "__rfloordiv__": lambda a, b: op("floor_div", b, a),
        "__mod__": lambda a, b: op("mod", a, b),
        "__rmod__": lambda a, b: op("mod", b, a),
        "__pow__": lambda a, b: op("pow", a, b),
        "__rpow__": lambda a, b: op("pow", b, a),
        "__matmul__": lambda a, b: mat_mul(a, b),
        "__rmatmul__": lambda a, b: mat_mul(b, a),
        "__neg__": lambda a: op("neg", a),
        "__abs__": lambda a: op("abs", a),
        "__lt__": lambda a, b: op("less", a, b),
        "__le__": lambda a, b: op("less_equal", a, b),
        "__gt__": lambda a, b: op("greater", a, b),
        "__ge__": lambda a, b: op("greater_equal", a, b),
        "__and__": lambda a, b: op("logical_and", a, b),
        "__or__": lambda a, b: op("logical_or", a, b),
        "__invert__": lambda a: op("logical_not", a),
    }
    for k, v in ops.items():
        setattr(Tensor, k, v)


_install_methods()
__all__ = (
    METHODS
    + CREATION
    + [
        "multiply",
        "subtract",
        "divide",
        "negative",
        "add_n",
        "where",
        "concat",
        "stack",
    ]
)
