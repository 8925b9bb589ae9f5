"""The op registry: each op defined once (shape rule, numpy reference, fusion kind, gradient).

``make(op, inputs, **attrs)`` is the only way nodes are built: it normalises attributes, checks
operands with clear errors, inserts the casts that mixed dtypes need and infers shape and dtype.
Elementwise ops live in ``ops_elementwise``, the others in ``ops_shape``; both register here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .ir import DTYPES, IRError, Node

Type = tuple[tuple[int, ...], str]

# Fusion kinds (TVM's categories): how an op may be fused with its neighbours.
ELEMENTWISE = "elementwise"  # out[i] = f(in0[i], in1[i], ...) after broadcasting
MOVEMENT = "movement"  # a strided view of its input: reshape, transpose, slice, broadcast
INJECTIVE = "injective"  # each output element reads computed input positions (gather, concat)
REDUCE = "reduce"
MATMUL = "matmul"  # out-elementwise-fusable: an epilogue can ride on it
OPAQUE = "opaque"
SOURCE = "source"  # input, const


@dataclass
class OpDef:
    """Everything about one op. ``grad(node, g)`` returns one gradient node (or None) per input."""

    name: str
    kind: str
    infer: Callable[[list[Type], dict], Type]
    ref: Callable[..., np.ndarray] | None = None
    grad: Callable[[Node, Node], list[Node | None]] | None = None
    c: str | dict[str, str] | None = None  # elementwise C template over {0}, {1}, ...
    arity: int | None = None  # number of tensor inputs (None: variadic)
    float_only: bool = False  # integer operands are cast to float32 first
    normalize: Callable[[list[Node], dict], dict] | None = None  # attrs check / canonical form
    doc: str = ""
    extra: dict = field(default_factory=dict)


OPS: dict[str, OpDef] = {}


def register(op: OpDef) -> OpDef:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} registered twice")
    OPS[op.name] = op
    return op


NP_DTYPE = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_RANK = {"bool": 0, "int32": 1, "float32": 2}


def upcast(*dtypes: str) -> str:
    """TF.js's upcast: bool < int32 < float32."""
    return max(dtypes, key=_RANK.__getitem__)


def dtype_of_value(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "bool"
    if isinstance(v, int | np.integer):
        return "int32"
    return "float32"


def broadcast_shapes(a: Sequence[int], b: Sequence[int], what: str = "operands") -> tuple:
    """numpy broadcasting of two shapes, with both shapes in the error."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and x != 1 and y != 1:
            raise IRError(
                f"{what} could not be broadcast together with shapes {list(a)} and {list(b)}"
            )
        out.append(y if x == 1 else x)
    return tuple(reversed(out))


def const(value: Any, dtype: str | None = None) -> Node:
    """A scalar constant node (baked into the kernels that use it)."""
    dtype = dtype or dtype_of_value(value)
    value = {"float32": float, "int32": int, "bool": bool}[dtype](value)
    return Node("const", (), {"value": value}, (), dtype)


def make(op: str, inputs: Sequence[Node | float | int | bool], **attrs: Any) -> Node:
    """Build a node of ``op``: check operands, insert casts, infer its shape and dtype."""
    d = OPS.get(op)
    if d is None:
        raise IRError(f"unknown op {op!r}")
    ins = list(inputs)
    if d.arity is not None and len(ins) != d.arity:
        raise IRError(f"{op} takes {d.arity} tensor inputs, got {len(ins)}")
    nodes = [i for i in ins if isinstance(i, Node)]
    if len(nodes) != len(ins):
        # Python scalars take the dtype of the tensor operands when compatible (like TF.js's
        # scalar promotion for numbers): 2 * int_tensor stays int32, 0.5 * int_tensor is float.
        tdt = upcast(*[n.dtype for n in nodes]) if nodes else None
        conv = []
        for i in ins:
            if isinstance(i, Node):
                conv.append(i)
                continue
            vdt = dtype_of_value(i)
            conv.append(const(i, tdt if tdt and _RANK[tdt] >= _RANK[vdt] else vdt))
        ins = conv
    if d.kind == ELEMENTWISE and op not in ("cast", "where"):
        target = upcast(*[i.dtype for i in ins]) if ins else "float32"
        if d.float_only:
            target = "float32"
        ins = [cast(i, target) if i.dtype != target else i for i in ins]
    elif op == "where":
        cond, a, b = ins
        if cond.dtype != "bool":
            raise IRError(f"where: condition must be bool, got {cond.dtype}")
        t = upcast(a.dtype, b.dtype)
        ins = [cond, cast(a, t) if a.dtype != t else a, cast(b, t) if b.dtype != t else b]
    if d.normalize is not None:
        attrs = d.normalize(ins, attrs)
    shape, dtype = d.infer([(i.shape, i.dtype) for i in ins], attrs)
    if dtype not in DTYPES:
        raise IRError(f"{op}: unsupported dtype {dtype}; expected one of {', '.join(DTYPES)}")
    return Node(op, ins, attrs, tuple(int(s) for s in shape), dtype)


def cast(x: Node, dtype: str) -> Node:
    if dtype not in DTYPES:
        raise IRError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
    if x.dtype == dtype:
        return x
    return Node("cast", (x,), {"dtype": dtype}, x.shape, dtype)


def sum_to(g: Node, shape: tuple[int, ...]) -> Node:
    """Sum a gradient over the axes that broadcasting added, back to ``shape``."""
    if g.shape == tuple(shape):
        return g
    lead = len(g.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1
    )
    r = make("sum", [g], axes=axes, keep_dims=False) if axes else g
    return make("reshape", [r], shape=tuple(shape)) if r.shape != tuple(shape) else r


def norm_axes(axes: Any, rank: int, op: str) -> tuple[int, ...]:
    """None -> all axes; ints -> sorted non-negative tuple; bad axes raise with the rank."""
    if axes is None:
        return tuple(range(rank))
    if isinstance(axes, int | np.integer):
        axes = (int(axes),)
    out = []
    for a in axes:
        if not isinstance(a, int | np.integer) or not -rank <= a < max(rank, 1):
            raise IRError(f"{op}: axis {a} is out of range for a tensor of rank {rank}")
        out.append(int(a) % max(rank, 1))
    if len(set(out)) != len(out):
        raise IRError(f"{op}: repeated axis in {list(axes)}")
    return tuple(sorted(out))


# Importing the definition modules registers their ops.
from . import ops_elementwise, ops_shape  # noqa: E402,F401
