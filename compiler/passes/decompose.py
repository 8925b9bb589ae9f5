"""decompose: softmax and log_softmax into max/sum reductions and elementwise ops."""

from __future__ import annotations

from ..ir import Graph, Node
from ..ops import make


def _expand(x: Node, log: bool) -> Node:
    """The max-shifted formula the softmax kernel uses, so fused results match it."""
    ax = len(x.shape) - 1
    s = make("sub", [x, make("max", [x], axes=ax, keep_dims=True)])
    total = make("sum", [make("exp", [s])], axes=ax, keep_dims=True)
    if log:
        return make("sub", [s, make("log", [total])])
    return make("div", [make("exp", [s]), total])


def decompose(graph: Graph) -> Graph:
    """Any graph -> the same graph with no softmax/log_softmax (reductions fuse by kind)."""
    new: dict[int, Node] = {id(i): i for i in graph.inputs}
    for n in graph.nodes:
        if id(n) in new:
            continue
        ins = [new[id(i)] for i in n.inputs]
        if n.op in ("softmax", "log_softmax"):
            new[id(n)] = _expand(ins[0], n.op == "log_softmax")
        elif all(a is b for a, b in zip(ins, n.inputs, strict=True)):
            new[id(n)] = n
        else:
            c = Node(n.op, ins, dict(n.attrs), n.shape, n.dtype)
            c.name = n.name
            new[id(n)] = c
    return Graph(graph.inputs, [new[id(o)] for o in graph.outputs], graph.name)
