"""fuse_reduce: reductions over one space with their elementwise producers and consumers."""

from __future__ import annotations

from ..fusion import Group, Quotient, contract, free_level
from ..ir import Graph, Node
from ..ops import ELEMENTWISE, MOVEMENT, OPS, REDUCE

ROW_OPS = ("sum", "max", "min", "prod")
LEVELS = {"total": 0, "row": 1, "elem": 2}
TOTAL_MAX = 1 << 16  # a grand total runs the rows in one work-item: only for small spaces


class _Space:
    """One reduce group being grown: the full shape, reduced axes and each member's level."""

    def __init__(self, seed: Node) -> None:
        self.full = seed.inputs[0].shape
        self.axes = seed.attrs["axes"]
        self.k0 = tuple(s for a, s in enumerate(self.full) if a not in self.axes)
        self.k1 = tuple(1 if a in self.axes else s for a, s in enumerate(self.full))
        size = 1
        for s in self.full:
            size *= s
        self.allow_total = size <= TOTAL_MAX
        self.level: dict[int, str] = {}

    def operand_level(self, o: Node, frame) -> str:
        if o.op == "const":
            return "total"
        if id(o) in self.level:
            return self.level[id(o)]
        return free_level(self.full, self.axes, o.shape, frame)

    def row_fits(self, o: Node, frame) -> bool:
        """A row value of ``o``'s shape read at a node of shape ``frame`` maps to its row."""
        if o.shape == frame or o.shape == self.full:
            return True
        if len(frame) == len(self.full):
            pad = (1,) * (len(self.full) - len(o.shape)) + tuple(o.shape)
            return all(
                pad[a] == (1 if a in self.axes else self.full[a]) for a in range(len(self.full))
            )
        return False

    def level_of(self, n: Node) -> str | None:
        """The level ``n`` would have in the group, or None when it cannot join."""
        kind = OPS[n.op].kind
        if kind == REDUCE:
            if n.op not in ROW_OPS or n.dtype != "float32":
                return None
            x = n.inputs[0]
            if x.shape == self.full and n.attrs["axes"] == self.axes:
                return "row"
            full_reduce = n.attrs["axes"] == tuple(range(len(x.shape)))
            if self.allow_total and full_reduce and self.level.get(id(x)) == "row":
                return "total"
            return None
        if kind == MOVEMENT:
            lv = self.level.get(id(n.inputs[0]))
            if n.op not in ("reshape", "broadcast_to") or lv not in ("row", "total"):
                return None
            if lv == "total":
                return "total" if all(s == 1 for s in n.shape) else None
            src, dst = n.inputs[0].shape, n.shape
            rows = (self.k0, self.k1)
            if (src in rows and dst in rows) or (
                n.op == "broadcast_to" and dst == self.full and self.row_fits(n.inputs[0], dst)
            ):
                return "row"
            return None
        if kind != ELEMENTWISE:
            return None
        levels = [self.operand_level(i, n.shape) for i in n.inputs]
        lv = max(levels, key=LEVELS.__getitem__)
        if lv != "total" and any(
            x == "total" and i.op != "const" and id(i) in self.level
            for x, i in zip(levels, n.inputs, strict=True)
        ):
            return None  # a grand total is only known after every row
        if lv == "elem":
            ok = n.shape == self.full and all(
                self.row_fits(i, n.shape)
                for x, i in zip(levels, n.inputs, strict=True)
                if x == "row" and id(i) in self.level
            )
            return "elem" if ok else None
        if lv == "row":
            return "row" if n.shape in (self.k0, self.k1, self.full) else None
        if not any(self.level.get(id(i)) == "total" for i in n.inputs):
            return "row" if all(s == 1 for s in n.shape) else None  # computed in each row
        return "total" if self.allow_total and all(s == 1 for s in n.shape) else None


def _grow(graph: Graph, q: Quotient, seed: Node, taken: set[int]):
    """The members (in graph order) and space of the group grown from ``seed``, or None."""
    sp = _Space(seed)
    sp.level[id(seed)] = "row"
    members = {id(seed): seed}
    users = graph.users()
    work = [seed]

    def try_add(n: Node) -> None:
        if id(n) in members or id(n) in taken or n.op in ("input", "const", "fused"):
            return
        lv = sp.level_of(n)
        if lv is None or not q.convex(set(members) | {id(n)}):
            return
        members[id(n)] = n
        sp.level[id(n)] = lv
        work.append(n)

    while work:
        m = work.pop()
        for u in users.get(id(m), []):
            try_add(u)
        for o in m.inputs:
            if OPS[o.op].kind in (ELEMENTWISE, REDUCE):
                try_add(o)
    if len(members) == 1:
        return None
    order = {id(n): k for k, n in enumerate(graph.nodes)}
    return sorted(members.values(), key=lambda n: order[id(n)]), sp


def fuse_reduce(graph: Graph) -> Graph:
    """Graph -> reductions sharing one space fused with the elementwise work around them."""
    q = Quotient(graph)
    taken: set[int] = set()
    groups = []
    for n in graph.nodes:
        if n.op not in ROW_OPS or id(n) in taken or n.dtype != "float32" or not n.attrs["axes"]:
            continue
        got = _grow(graph, q, n, taken)
        if got is None:
            continue
        nodes, sp = got
        taken |= {id(m) for m in nodes}
        q.accept(id(m) for m in nodes)
        groups.append(Group("reduce", nodes, extra={"space": (sp.full, sp.axes)}))
    return contract(graph, groups)
