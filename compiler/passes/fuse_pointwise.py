"""fuse_pointwise: elementwise DAGs into one kernel each, then independent ones side by side."""

from __future__ import annotations

from ..fusion import Group, Quotient, contract, gather_is_view, read_in_place
from ..ir import Graph, Node
from ..ops import ELEMENTWISE, INJECTIVE, OPS


def _vertical(graph: Graph, q: Quotient) -> list[list[Node]]:
    """Each elementwise node joins the groups of its same-shaped operands while acyclic."""
    groups: dict[int, list[Node]] = {}  # keyed by the group's first node
    group_of: dict[int, int] = {}
    users, outs = graph.users(), {id(o) for o in graph.outputs}
    for n in graph.nodes:
        kind = OPS[n.op].kind
        if kind not in (ELEMENTWISE, INJECTIVE):
            continue
        if gather_is_view(n) and read_in_place(n, users, outs):
            continue  # an indexed view its readers load through: no kernel
        mine = id(n)
        groups[mine] = [n]
        group_of[mine] = mine
        # Injective ops index their operands themselves: those must come from buffers.
        for o in n.inputs if kind == ELEMENTWISE else ():
            k = group_of.get(id(o))
            if k is None or k == group_of[mine] or o.shape != n.shape:
                continue
            if q.convex({id(groups[k][0]), id(n)}):
                q.accept({id(groups[k][0]), id(n)})
                moved = groups.pop(group_of[mine])
                groups[k] += moved
                for m in moved:
                    group_of[id(m)] = k
    return list(groups.values())


def fuse_pointwise(graph: Graph) -> Graph:
    """Graph -> elementwise work as fused_pointwise nodes; independent groups share a kernel
    whose work-items are split into one segment per output shape (multi-tensor updates)."""
    q = Quotient(graph)
    merged: list[list[Node]] = []
    for grp in _vertical(graph, q):
        for m in merged:
            # Side by side only when independent: neither group reads the other's results.
            if not q.related([id(m[0])], [id(grp[0])]):
                q.accept({id(m[0]), id(grp[0])})
                m += grp
                break
        else:
            merged.append(list(grp))
    order = {id(n): k for k, n in enumerate(graph.nodes)}
    groups = [
        Group("pointwise", sorted(m, key=lambda n: order[id(n)])) for m in merged if len(m) > 1
    ]
    return contract(graph, groups)
