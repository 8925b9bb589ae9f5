"""fuse_reduce: reductions over one space with their elementwise producers and consumers."""

from __future__ import annotations

from ..fusion import Group, Quotient, contract, free_level
from ..ir import Graph, Node
from ..ops import ELEMENTWISE, MOVEMENT, OPS, REDUCE

ROW_OPS = ("sum", "max", "min", "prod")
ARG_OPS = ("argmax", "argmin")  # row reductions to an index (int32), one axis
LEVELS = {"total": 0, "row": 1, "elem": 2}
TOTAL_MAX = 1 << 16  # a grand total runs the rows in one work-item: only for small spaces
SIBLING_SCAN = 64  # nodes looked at below a shared value when searching sibling reductions


class _Space:
    """One reduce group being grown: the full shape, reduced axes and each member's level."""

    def __init__(self, seed: Node) -> None:
        self.full = seed.inputs[0].shape
        self.axes = reduce_axes(seed)
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
            x = n.inputs[0]
            if n.op in ARG_OPS:
                ok = x.dtype in ("float32", "int32") and x.shape == self.full
                return "row" if ok and reduce_axes(n) == self.axes else None
            if n.op not in ROW_OPS or n.dtype != "float32":
                return None
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
        if n.op == "one_hot":  # one-hot rows over the reduced (last) axis, from row indices
            last = (len(self.full) - 1,)
            ok = n.shape == self.full and self.axes == last and n.inputs[0].shape == self.k0
            return "elem" if ok and self.operand_level(n.inputs[0], self.k0) != "elem" else None
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


def reduce_axes(n: Node) -> tuple[int, ...]:
    """The axes a reduction folds (arg ops name one ``axis``)."""
    return (n.attrs["axis"],) if n.op in ARG_OPS else tuple(n.attrs["axes"])


def _producers(o: Node) -> list[Node]:
    """``o`` and, through reshape/broadcast views, the elementwise node they show (in graph
    order): a row value broadcast over the row joins the group with its views."""
    chain = [o]
    while chain[-1].op in ("reshape", "broadcast_to"):
        chain.append(chain[-1].inputs[0])
    if not _computes(chain[-1]):
        return [o] if _computes(o) else []
    return chain[::-1]


def _computes(n: Node) -> bool:
    return OPS[n.op].kind in (ELEMENTWISE, REDUCE) or n.op == "one_hot"


def _siblings(o: Node, users: dict, skip, full) -> list[Node]:
    """Reductions that read ``o`` directly or through elementwise work of the space's shape:
    they walk the same rows, so they belong in the row kernel that reads ``o``."""
    found, seen, stack = [], set(), [o]
    while stack and len(seen) < SIBLING_SCAN:
        for u in users.get(id(stack.pop()), []):
            if id(u) in seen or skip(u):
                continue
            seen.add(id(u))
            if OPS[u.op].kind == REDUCE:
                found.append(u)
            elif OPS[u.op].kind == ELEMENTWISE and u.shape == full:
                stack.append(u)
    return found


def _cone(r: Node, skip) -> list[Node]:
    """``r`` after the elementwise nodes it reads that are not in the group (dependency order)."""
    got: list[Node] = []
    seen: set[int] = set()

    def visit(n: Node) -> None:
        if id(n) in seen:
            return
        seen.add(id(n))
        for i in n.inputs:
            if OPS[i.op].kind == ELEMENTWISE and not skip(i):
                visit(i)
        got.append(n)

    visit(r)
    return got


def _grow(graph: Graph, q: Quotient, seed: Node, taken: set[int]):
    """The members (in graph order) and space of the group grown from ``seed``, or None.

    From each member the group takes its users, its producers (with the views between) and
    the other reductions over the values it reads (siblings walking the same rows, with the
    elementwise work between), as long as each has a level in the space and the group stays
    convex."""
    sp = _Space(seed)
    sp.level[id(seed)] = "row"
    members = {id(seed): seed}
    users = graph.users()
    work = [seed]

    def skip(n: Node) -> bool:
        return id(n) in members or id(n) in taken or n.op in ("input", "const", "fused")

    def try_add(nodes: list[Node]) -> None:
        """Add ``nodes`` (in dependency order) all together, or none of them."""
        nodes = [n for n in nodes if id(n) not in members]
        if not nodes or any(skip(n) for n in nodes):
            return
        got = {}
        for n in nodes:
            lv = sp.level_of(n)
            if lv is None:
                break
            sp.level[id(n)] = got[id(n)] = lv
        if len(got) < len(nodes) or not q.convex(set(members) | set(got)):
            for k in got:
                del sp.level[k]
            return
        for n in nodes:
            members[id(n)] = n
            work.append(n)

    while work:
        m = work.pop()
        for u in users.get(id(m), []):
            try_add([u])
        for o in m.inputs:
            if id(o) in members:
                continue
            try_add(_producers(o))
            for r in _siblings(o, users, skip, sp.full):
                try_add(_cone(r, skip))
    if len(members) == 1:
        return None
    order = {id(n): k for k, n in enumerate(graph.nodes)}
    return sorted(members.values(), key=lambda n: order[id(n)]), sp


def _is_seed(n: Node) -> bool:
    if n.op in ARG_OPS:
        return len(n.inputs[0].shape) > 0
    return n.op in ROW_OPS and n.dtype == "float32" and bool(n.attrs["axes"])


def fuse_reduce(graph: Graph) -> Graph:
    """Graph -> reductions sharing one space fused with the elementwise work around them:
    several reductions per row (sums, extremes, arg-extremes), elementwise work before and
    after them, and grand totals over the rows, as one row kernel per group."""
    q = Quotient(graph)
    taken: set[int] = set()
    groups = []
    for n in graph.nodes:
        if not _is_seed(n) or id(n) in taken:
            continue
        got = _grow(graph, q, n, taken)
        if got is None:
            continue
        nodes, sp = got
        taken |= {id(m) for m in nodes}
        q.accept(id(m) for m in nodes)
        groups.append(Group("reduce", nodes, extra={"space": (sp.full, sp.axes)}))
    return contract(graph, groups)
