"""fuse_pointwise: elementwise DAGs into one kernel each, then independent ones side by side."""

from __future__ import annotations

import networkx as nx

from ..fusion import Group, contract, convex, digraph
from ..ir import Graph, Node
from ..ops import ELEMENTWISE, INJECTIVE, OPS


def _vertical(graph: Graph, g) -> list[list[Node]]:
    """Each elementwise node joins the group of a same-shaped operand when that stays acyclic."""
    groups: list[list[Node]] = []
    group_of: dict[int, int] = {}
    for n in graph.nodes:
        kind = OPS[n.op].kind
        if kind not in (ELEMENTWISE, INJECTIVE):
            continue
        placed = False
        # Injective ops index their operands themselves: those must come from buffers.
        for o in n.inputs if kind == ELEMENTWISE else ():
            k = group_of.get(id(o))
            if k is None or o.shape != n.shape:
                continue
            if convex(g, {id(x) for x in groups[k]} | {id(n)}):
                groups[k].append(n)
                group_of[id(n)] = k
                placed = True
                break
        if not placed:
            group_of[id(n)] = len(groups)
            groups.append([n])
    return groups


def fuse_pointwise(graph: Graph) -> Graph:
    """Graph -> elementwise work as fused_pointwise nodes; independent groups share a kernel
    whose work-items are split into one segment per output shape (multi-tensor updates)."""
    g = digraph(graph)
    merged: list[tuple[list[Node], set[int], set[int]]] = []  # nodes, ids, ids reachable
    for grp in _vertical(graph, g):
        ids = {id(x) for x in grp}
        below = set().union(*(nx.descendants(g, i) for i in ids))
        above = set().union(*(nx.ancestors(g, i) for i in ids))
        for m, mids, mbelow in merged:
            # Side by side only when independent: neither group reads the other's results.
            if not (mids & above) and not (mbelow & ids):
                m += grp
                mids |= ids
                mbelow |= below
                break
        else:
            merged.append((list(grp), ids, below))
    order = {id(n): k for k, n in enumerate(graph.nodes)}
    groups = [Group("pointwise", sorted(m, key=lambda n: order[id(n)]))
              for m, _, _ in merged if len(m) > 1]
    return contract(graph, groups)
