"""Reductions, matmul, softmax, movement and index ops: shape rules, references, gradients."""

from __future__ import annotations

import numpy as np

from .ir import IRError
from .ops import (
    INJECTIVE,
    MATMUL,
    MOVEMENT,
    OPAQUE,
    REDUCE,
    SOURCE,
    OpDef,
    broadcast_shapes,
    dtype_of_value,
    make,
    norm_axes,
    register,
    sum_to,
)


def M(op, *ins, **attrs):
    return make(op, ins, **attrs)


# --- sources ---------------------------------------------------------------------------------
def _source_infer(types, attrs):
    raise IRError("source nodes are created directly, not through make()")


register(OpDef("input", SOURCE, _source_infer, arity=0))
register(OpDef("buffer", SOURCE, _source_infer, arity=0))
# const() stores the value as the Python type of its dtype, so the value tells the dtype.
register(OpDef("const", SOURCE, lambda t, a: ((), dtype_of_value(a["value"])), arity=0))


# --- reductions ------------------------------------------------------------------------------
def _reduce_norm(op):
    def norm(ins, attrs):
        return {
            "axes": norm_axes(attrs.get("axes"), len(ins[0].shape), op),
            "keep_dims": bool(attrs.get("keep_dims", False)),
        }

    return norm


def _reduced_shape(shape, axes, keep_dims):
    if keep_dims:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _reduce_infer(out_dtype=None):
    def infer(types, attrs):
        ((shape, dtype),) = types
        dt = out_dtype or ("int32" if dtype == "bool" else dtype)
        return _reduced_shape(shape, attrs["axes"], attrs["keep_dims"]), dt

    return infer


def _expand_back(n, g):
    """Broadcast a reduction's output gradient back over the reduced axes."""
    x = n.inputs[0]
    kept = _reduced_shape(x.shape, n.attrs["axes"], True)
    g = M("reshape", g, shape=kept) if g.shape != kept else g
    return M("broadcast_to", g, shape=x.shape) if kept != x.shape else g


def _np_reduce(fn, out_bool=False):
    def ref(x, axes, keep_dims):
        if x.dtype == bool and not out_bool:
            x = x.astype(np.int32)
        return fn(x, axis=axes, keepdims=keep_dims)

    return ref


def _minmax_grad(n, g):
    x = n.inputs[0]
    y = _expand_back(n, n)
    return [M("mul", _expand_back(n, g), M("cast", M("equal", x, y), dtype=x.dtype))]


for _name, _fn, _grad, _init in [
    ("sum", np.sum, lambda n, g: [_expand_back(n, g)], "0"),
    (
        "prod",
        np.prod,
        lambda n, g: [M("div", M("mul", _expand_back(n, g), _expand_back(n, n)), n.inputs[0])],
        "1",
    ),
    ("max", np.max, _minmax_grad, "-INFINITY"),
    ("min", np.min, _minmax_grad, "INFINITY"),
]:
    register(
        OpDef(
            _name,
            REDUCE,
            _reduce_infer(),
            _np_reduce(_fn),
            _grad,
            arity=1,
            normalize=_reduce_norm(_name),
            extra={"init": _init},
        )
    )
register(
    OpDef(
        "any",
        REDUCE,
        _reduce_infer("bool"),
        _np_reduce(np.any, True),
        arity=1,
        normalize=_reduce_norm("any"),
        extra={"init": "0"},
    )
)
register(
    OpDef(
        "all",
        REDUCE,
        _reduce_infer("bool"),
        _np_reduce(np.all, True),
        arity=1,
        normalize=_reduce_norm("all"),
        extra={"init": "1"},
    )
)


def _arg_norm(ins, attrs):
    rank = len(ins[0].shape)
    if rank == 0:
        raise IRError("arg_max/arg_min need a tensor of rank >= 1, got a scalar")
    return {"axis": norm_axes(attrs.get("axis", 0), rank, "arg_max/arg_min")[0]}


def _arg_infer(types, attrs):
    shape = types[0][0]
    return tuple(s for i, s in enumerate(shape) if i != attrs["axis"]), "int32"


def _arg_ref(find, fill):
    """TF.js's scan: the first strict extreme wins and NaN is skipped (numpy picks the NaN),
    unless the first element is NaN, which then stays (nothing compares greater than it)."""

    def ref(x, axis):
        if x.dtype.kind != "f":
            return find(x, axis).astype(np.int32)
        r = find(np.where(np.isnan(x), fill, x), axis)
        return np.where(np.isnan(np.take(x, 0, axis)), 0, r).astype(np.int32)

    return ref


register(
    OpDef(
        "argmax",
        REDUCE,
        _arg_infer,
        _arg_ref(np.argmax, -np.inf),
        lambda n, g: [None],
        arity=1,
        normalize=_arg_norm,
    )
)
register(
    OpDef(
        "argmin",
        REDUCE,
        _arg_infer,
        _arg_ref(np.argmin, np.inf),
        lambda n, g: [None],
        arity=1,
        normalize=_arg_norm,
    )
)


# --- matmul ----------------------------------------------------------------------------------
def _mm_norm(ins, attrs):
    return {
        "transpose_a": bool(attrs.get("transpose_a", False)),
        "transpose_b": bool(attrs.get("transpose_b", False)),
    }


def _mm_infer(types, attrs):
    (sa, da), (sb, db) = types
    if len(sa) != 2 or len(sb) != 2:
        raise IRError(f"mat_mul expects rank-2 tensors, got shapes {list(sa)} and {list(sb)}")
    if da != "float32" or db != "float32":
        raise IRError(f"mat_mul expects float32 tensors, got {da} and {db}")
    m, ka = (sa[1], sa[0]) if attrs["transpose_a"] else sa
    kb, n = (sb[1], sb[0]) if attrs["transpose_b"] else sb
    if ka != kb:
        raise IRError(
            f"mat_mul: inner dimensions must match: shapes {list(sa)} and {list(sb)} "
            f"(transpose_a={attrs['transpose_a']}, transpose_b={attrs['transpose_b']}) "
            f"give {ka} and {kb}"
        )
    return (m, n), "float32"


def _mm_ref(a, b, transpose_a, transpose_b):
    return (a.T if transpose_a else a) @ (b.T if transpose_b else b)


def _mm_grad(n, g):
    a, b = n.inputs
    ta, tb = n.attrs["transpose_a"], n.attrs["transpose_b"]
    mm = lambda x, y, tx, ty: M("matmul", x, y, transpose_a=tx, transpose_b=ty)  # noqa: E731
    if not ta and not tb:
        return [mm(g, b, False, True), mm(a, g, True, False)]
    if not ta and tb:
        return [mm(g, b, False, False), mm(g, a, True, False)]
    if ta and not tb:
        return [mm(b, g, False, True), mm(a, g, False, False)]
    return [mm(b, g, True, True), mm(g, a, True, True)]


register(OpDef("matmul", MATMUL, _mm_infer, _mm_ref, _mm_grad, arity=2, normalize=_mm_norm))


# --- softmax ---------------------------------------------------------------------------------
def _softmax_norm(ins, attrs):
    rank = len(ins[0].shape)
    if rank == 0:
        raise IRError("softmax needs a tensor of rank >= 1, got a scalar")
    axis = attrs.get("axis", -1)
    if norm_axes(axis, rank, "softmax")[0] != rank - 1:
        raise IRError(
            f"softmax along axis {axis} is not supported: only the last axis ({rank - 1})"
        )
    return {}


def _float_same(types, attrs):
    if types[0][1] != "float32":
        raise IRError(f"softmax expects a float32 tensor, got {types[0][1]}")
    return types[0]


def _softmax_ref(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax_ref(x):
    s = x - x.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def _softmax_grad(n, g):
    gy = M("mul", g, n)
    return [M("sub", gy, M("mul", n, M("sum", gy, axes=-1, keep_dims=True)))]


def _log_softmax_grad(n, g):
    return [M("sub", g, M("mul", M("exp", n), M("sum", g, axes=-1, keep_dims=True)))]


register(
    OpDef(
        "softmax",
        OPAQUE,
        _float_same,
        _softmax_ref,
        _softmax_grad,
        arity=1,
        normalize=_softmax_norm,
    )
)
register(
    OpDef(
        "log_softmax",
        OPAQUE,
        _float_same,
        _log_softmax_ref,
        _log_softmax_grad,
        arity=1,
        normalize=_softmax_norm,
    )
)


# --- movement (strided views) ----------------------------------------------------------------
def _reshape_norm(ins, attrs):
    old = ins[0].shape
    shape = [int(s) for s in attrs["shape"]]
    size = int(np.prod(old, dtype=np.int64))
    if shape.count(-1) > 1:
        raise IRError(f"reshape: at most one -1 in the new shape, got {shape}")
    if -1 in shape:
        rest = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if rest == 0 or size % rest:
            raise IRError(f"reshape: cannot infer -1 in {shape} for a tensor of shape {list(old)}")
        shape[shape.index(-1)] = size // rest
    if any(s < 0 for s in shape) or int(np.prod(shape, dtype=np.int64)) != size:
        raise IRError(
            f"reshape: size of shape {list(old)} ({size} elements) does not match "
            f"the new shape {shape} ({int(np.prod(shape, dtype=np.int64))} elements)"
        )
    return {"shape": tuple(shape)}


register(
    OpDef(
        "reshape",
        MOVEMENT,
        lambda t, a: (a["shape"], t[0][1]),
        lambda x, shape: x.reshape(shape),
        lambda n, g: [M("reshape", g, shape=n.inputs[0].shape)],
        arity=1,
        normalize=_reshape_norm,
    )
)


def _transpose_norm(ins, attrs):
    rank = len(ins[0].shape)
    perm = attrs.get("perm")
    perm = tuple(reversed(range(rank))) if perm is None else tuple(int(p) for p in perm)
    if sorted(perm) != list(range(rank)):
        raise IRError(f"transpose: perm {list(perm)} is not a permutation of 0..{rank - 1}")
    return {"perm": perm}


register(
    OpDef(
        "transpose",
        MOVEMENT,
        lambda t, a: (tuple(t[0][0][p] for p in a["perm"]), t[0][1]),
        lambda x, perm: np.transpose(x, perm),
        lambda n, g: [M("transpose", g, perm=tuple(np.argsort(n.attrs["perm"])))],
        arity=1,
        normalize=_transpose_norm,
    )
)


def _slice_norm(ins, attrs):
    shape = ins[0].shape
    begin = attrs["begin"]
    begin = [int(begin)] if np.isscalar(begin) else [int(b) for b in begin]
    size = attrs.get("size")
    size = (
        [-1] * len(begin)
        if size is None
        else ([int(size)] if np.isscalar(size) else [int(s) for s in size])
    )
    if len(begin) > len(shape) or len(size) != len(begin):
        raise IRError(f"slice: begin {begin} / size {size} do not fit shape {list(shape)}")
    begin += [0] * (len(shape) - len(begin))
    size += [-1] * (len(shape) - len(size))
    for i, (b, s, d) in enumerate(zip(begin, size, shape, strict=True)):
        if s == -1:
            size[i] = s = d - b
        if b < 0 or s < 0 or b + s > d:
            raise IRError(
                f"slice: begin {begin} and size {size} are out of bounds "
                f"for shape {list(shape)} (axis {i})"
            )
    return {"begin": tuple(begin), "size": tuple(size)}


def _slice_grad(n, g):
    x = n.inputs[0]
    pads = tuple(
        (b, d - b - s) for b, s, d in zip(n.attrs["begin"], n.attrs["size"], x.shape, strict=True)
    )
    return [M("pad", g, paddings=pads, value=0.0)]


register(
    OpDef(
        "slice",
        MOVEMENT,
        lambda t, a: (a["size"], t[0][1]),
        lambda x, begin, size: x[tuple(slice(b, b + s) for b, s in zip(begin, size, strict=True))],
        _slice_grad,
        arity=1,
        normalize=_slice_norm,
    )
)


def _bcast_norm(ins, attrs):
    shape = tuple(int(s) for s in attrs["shape"])
    if broadcast_shapes(ins[0].shape, shape, "broadcast_to") != shape:
        raise IRError(f"broadcast_to: cannot broadcast shape {list(ins[0].shape)} to {list(shape)}")
    return {"shape": shape}


register(
    OpDef(
        "broadcast_to",
        MOVEMENT,
        lambda t, a: (a["shape"], t[0][1]),
        lambda x, shape: np.broadcast_to(x, shape).copy(),
        lambda n, g: [sum_to(g, n.inputs[0].shape)],
        arity=1,
        normalize=_bcast_norm,
    )
)
register(
    OpDef(
        "reverse",
        MOVEMENT,
        lambda t, a: t[0],
        lambda x, axes: np.flip(x, axes),
        lambda n, g: [M("reverse", g, axes=n.attrs["axes"])],
        arity=1,
        normalize=lambda ins, a: {"axes": norm_axes(a.get("axes"), len(ins[0].shape), "reverse")},
    )
)


# --- injective: each output element reads computed positions ---------------------------------
def _pad_norm(ins, attrs):
    shape = ins[0].shape
    pads = tuple((int(lo), int(hi)) for lo, hi in attrs["paddings"])
    if len(pads) != len(shape) or any(lo < 0 or hi < 0 for lo, hi in pads):
        raise IRError(
            f"pad: paddings {list(pads)} must be one non-negative (before, after) "
            f"pair per axis of shape {list(shape)}"
        )
    return {"paddings": pads, "value": float(attrs.get("value", 0.0))}


register(
    OpDef(
        "pad",
        INJECTIVE,
        lambda t, a: (
            tuple(s + lo + hi for s, (lo, hi) in zip(t[0][0], a["paddings"], strict=True)),
            t[0][1],
        ),
        lambda x, paddings, value: np.pad(x, paddings, constant_values=value),
        lambda n, g: [
            M("slice", g, begin=tuple(lo for lo, _ in n.attrs["paddings"]), size=n.inputs[0].shape)
        ],
        arity=1,
        normalize=_pad_norm,
    )
)


def _concat_norm(ins, attrs):
    if not ins:
        raise IRError("concat needs at least one tensor")
    rank = len(ins[0].shape)
    if rank == 0:
        raise IRError("concat: scalars cannot be concatenated; use stack")
    axis = norm_axes(attrs.get("axis", 0), rank, "concat")[0]
    for x in ins:
        if len(x.shape) != rank or any(
            a != b for i, (a, b) in enumerate(zip(x.shape, ins[0].shape, strict=True)) if i != axis
        ):
            raise IRError(
                f"concat: shapes {[list(i.shape) for i in ins]} differ outside axis {axis}"
            )
        if x.dtype != ins[0].dtype:
            raise IRError(f"concat: dtypes differ: {[i.dtype for i in ins]}")
    return {"axis": axis}


def _concat_infer(types, attrs):
    ax = attrs["axis"]
    shape = list(types[0][0])
    shape[ax] = sum(t[0][ax] for t in types)
    return tuple(shape), types[0][1]


def _concat_grad(n, g):
    out, off, ax = [], 0, n.attrs["axis"]
    for x in n.inputs:
        begin = [0] * len(x.shape)
        begin[ax] = off
        out.append(M("slice", g, begin=tuple(begin), size=x.shape))
        off += x.shape[ax]
    return out


register(
    OpDef(
        "concat",
        INJECTIVE,
        _concat_infer,
        lambda *xs, axis: np.concatenate(xs, axis),
        _concat_grad,
        normalize=_concat_norm,
    )
)


def _gather_norm(ins, attrs):
    x, idx = ins
    if idx.dtype != "int32":
        raise IRError(f"gather: indices must be int32, got {idx.dtype}")
    return {"axis": norm_axes(attrs.get("axis", 0), len(x.shape), "gather")[0]}


def _gather_infer(types, attrs):
    (sx, dx), (si, _) = types
    ax = attrs["axis"]
    return tuple(sx[:ax]) + tuple(si) + tuple(sx[ax + 1 :]), dx


def _gather_grad(n, g):
    x, idx = n.inputs
    if n.attrs["axis"] != 0 or x.dtype != "float32":
        return [None, None]  # only embedding-style gathers along axis 0 are differentiable
    rows = idx.size
    flat_i = M("reshape", idx, shape=(rows,))
    onehot = M("one_hot", flat_i, depth=x.shape[0], dtype="float32")
    g2 = M("reshape", g, shape=(rows, max(1, x.size // max(1, x.shape[0]))))
    return [M("reshape", M("matmul", onehot, g2, transpose_a=True), shape=x.shape), None]


register(
    OpDef(
        "gather",
        INJECTIVE,
        _gather_infer,
        lambda x, i, axis: np.take(x, np.clip(i, 0, x.shape[axis] - 1), axis),
        _gather_grad,
        arity=2,
        normalize=_gather_norm,
    )
)


def _one_hot_norm(ins, attrs):
    if ins[0].dtype != "int32":
        raise IRError(f"one_hot: indices must be int32, got {ins[0].dtype}")
    depth = int(attrs["depth"])
    if depth < 1:
        raise IRError(f"one_hot: depth must be >= 1, got {depth}")
    dtype = attrs.get("dtype", "int32")
    return {
        "depth": depth,
        "on_value": float(attrs.get("on_value", 1)),
        "off_value": float(attrs.get("off_value", 0)),
        "dtype": dtype,
    }


def _one_hot_ref(i, depth, on_value, off_value, dtype):
    hit = i[..., None] == np.arange(depth)
    return np.where(hit, on_value, off_value).astype(np.float32 if dtype == "float32" else np.int32)


register(
    OpDef(
        "one_hot",
        INJECTIVE,
        lambda t, a: (tuple(t[0][0]) + (a["depth"],), a["dtype"]),
        _one_hot_ref,
        lambda n, g: [None],
        arity=1,
        normalize=_one_hot_norm,
    )
)
