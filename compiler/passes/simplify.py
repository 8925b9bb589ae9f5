"""simplify: dead code, common subexpressions, constant folding and algebraic identities."""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Node
from ..ops import ELEMENTWISE, OPS, const, make


def _scalar_const(n: Node):
    """The value of a constant node or of a broadcast/reshape view of one, else None."""
    while n.op in ("broadcast_to", "reshape"):
        n = n.inputs[0]
    return n.attrs["value"] if n.op == "const" else None


def _splat(value, dtype: str, shape: tuple[int, ...]) -> Node:
    c = const(value, dtype)
    return make("broadcast_to", [c], shape=shape) if shape else c


def _is(n: Node, value: float) -> bool:
    v = _scalar_const(n)
    return v is not None and not isinstance(v, bool) and v == value


def _fold(n: Node) -> Node | None:
    """Evaluate an elementwise node whose operands are all constants."""
    vals = [_scalar_const(i) for i in n.inputs]
    if any(v is None for v in vals) or not OPS[n.op].ref:
        return None
    from ..ops import NP_DTYPE

    args = [np.array(v, NP_DTYPE[i.dtype]) for v, i in zip(vals, n.inputs, strict=True)]
    with np.errstate(all="ignore"):
        out = np.asarray(OPS[n.op].ref(*args, **n.attrs)).astype(NP_DTYPE[n.dtype])
    return _splat(out.reshape(()).item(), n.dtype, n.shape)


def _rewrite(n: Node, users_of_relu: dict[int, Node]) -> Node:
    """One node after the local rules (operands already simplified)."""
    op, ins = n.op, n.inputs
    kind = OPS[op].kind
    same = lambda x: x.shape == n.shape and x.dtype == n.dtype  # noqa: E731
    if kind == ELEMENTWISE:
        folded = _fold(n)
        if folded is not None:
            return folded
        # A broadcast constant operand is a scalar to the kernel: drop the view when the
        # other operands keep the result's shape.
        stripped = [
            const(_scalar_const(i), i.dtype)
            if i.op == "broadcast_to" and _scalar_const(i) is not None
            else i
            for i in ins
        ]
        if any(a is not b for a, b in zip(stripped, ins, strict=True)):
            try:
                cand = make(op, stripped, **n.attrs)
            except Exception:  # noqa: BLE001 - a rule that does not apply
                cand = None
            if cand is not None and cand.shape == n.shape and cand.dtype == n.dtype:
                return _rewrite(cand, users_of_relu)
        if op == "mul":
            for a, b in (ins, ins[::-1]):
                if _is(b, 1.0) and same(a):
                    return a
        if op == "add":
            for a, b in (ins, ins[::-1]):
                if _is(b, 0.0) and same(a):
                    return a
        if op in ("sub", "div") and _is(ins[1], 0.0 if op == "sub" else 1.0) and same(ins[0]):
            return ins[0]
        if op == "neg" and ins[0].op == "neg":
            return ins[0].inputs[0]
        if op == "cast" and ins[0].dtype == n.dtype:
            return ins[0]
        if op == "step" and id(ins[0]) in users_of_relu:
            # step(x) == step(relu(x)) (NaN included): lets x die inside relu's kernel.
            return Node("step", (users_of_relu[id(ins[0])],), {}, n.shape, n.dtype)
    elif op in ("reshape", "broadcast_to"):
        x = ins[0]
        if x.shape == n.shape:
            return x
        v = _scalar_const(x)
        if v is not None:
            return _splat(v, n.dtype, n.shape)
        if x.op == op or (op == "reshape" and x.op == "reshape"):
            return make(op, [x.inputs[0]], shape=n.shape)
    elif op == "transpose":
        x = ins[0]
        if n.attrs["perm"] == tuple(range(len(n.shape))):
            return x
        if x.op == "transpose":
            perm = tuple(x.attrs["perm"][p] for p in n.attrs["perm"])
            return make("transpose", [x.inputs[0]], perm=perm)
    return n


def simplify(graph: Graph) -> Graph:
    """Any graph -> an equivalent graph without dead, duplicate or trivially foldable nodes."""
    new: dict[int, Node] = {id(i): i for i in graph.inputs}
    seen: dict[tuple, Node] = {}
    done: set[int] = {id(i) for i in graph.inputs}  # canonical nodes
    relu_of: dict[int, Node] = {}  # id(x) -> relu(x), for the step identity

    def canon(n: Node) -> Node:
        if id(n) in done:
            return n
        ins = [canon(i) for i in n.inputs]  # rules build small trees of fresh nodes
        if any(a is not b for a, b in zip(ins, n.inputs, strict=True)):
            n = _clone(n, ins)
        attrs = tuple(sorted((k, v) for k, v in n.attrs.items() if k != "role"))
        k = (n.op, attrs, tuple(id(i) for i in n.inputs), n.shape, n.dtype)
        if k not in seen:
            seen[k] = n
            done.add(id(n))
        return seen[k]

    for n in graph.nodes:
        if id(n) in new:
            continue
        ins = [new[id(i)] for i in n.inputs]
        m = n if all(a is b for a, b in zip(ins, n.inputs, strict=True)) else _clone(n, ins)
        for _ in range(8):  # rules may enable each other; each only shrinks the node
            r = canon(_rewrite(m, relu_of))
            if r is m:
                break
            m = r
        new[id(n)] = m = canon(m)
        if m.op == "relu":
            relu_of.setdefault(id(m.inputs[0]), m)
    return Graph(graph.inputs, [new[id(o)] for o in graph.outputs], graph.name)


def _clone(n: Node, inputs: list[Node]) -> Node:
    c = Node(n.op, inputs, dict(n.attrs), n.shape, n.dtype)
    c.name = n.name
    return c
