"""Reverse-mode autodiff on the IR: gradient nodes built from each op's rule.

The result is more IR, so gradient graphs go through the same passes as forward graphs.
"""

from __future__ import annotations

from collections.abc import Sequence

from .ir import IRError, Node, line_of, toposort
from .ops import OPS, const, make


def ones_like(x: Node) -> Node:
    c = const(1.0, x.dtype)
    return make("broadcast_to", [c], shape=x.shape) if x.shape else c


def gradients(y: Node, wrt: Sequence[Node], seed: Node | None = None) -> list[Node | None]:
    """d(sum of y * seed)/d(wrt); None where ``wrt[i]`` does not influence ``y``.

    A node used several times accumulates; broadcasting is undone by each rule's ``sum_to``.
    """
    order = toposort([y])
    wanted = {id(w) for w in wrt}
    # Only nodes on a path from wrt to y need gradients.
    reach: set[int] = set()
    for n in order:
        if id(n) in wanted or any(id(i) in reach for i in n.inputs):
            reach.add(id(n))
    grads: dict[int, Node] = {id(y): seed if seed is not None else ones_like(y)}
    for n in reversed(order):
        g = grads.get(id(n))
        if g is None or not n.inputs or id(n) not in reach:
            continue
        rule = OPS[n.op].grad
        if rule is None:
            raise IRError(f"no gradient rule for {line_of(n, {})}")
        parts = rule(n, g)
        for x, gx in zip(n.inputs, parts, strict=True):
            if gx is None or id(x) not in reach or x.dtype != "float32":
                continue
            if gx.shape != x.shape:
                raise IRError(
                    f"gradient rule of {n.op} gave shape {list(gx.shape)} for an "
                    f"input of shape {list(x.shape)}"
                )
            prev = grads.get(id(x))
            grads[id(x)] = gx if prev is None else make("add", [prev, gx])
    return [grads.get(id(w)) for w in wrt]
