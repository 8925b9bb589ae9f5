"""fuse_dense: each matmul with its elementwise epilogue and its B operand's column sum."""

from __future__ import annotations

from ..fusion import Group, Quotient, contract
from ..ir import Graph, Node
from ..ops import ELEMENTWISE, OPS

MAX_SIDE_DEPTH = 3  # how deep an operand's own elementwise producers are inlined


def operand_class(shape: tuple[int, ...], target: tuple[int, ...]) -> str | None:
    """How an operand broadcast to ``target`` [M,N] is indexed: scalar, col, row or full."""
    if len(shape) > 2:
        return None
    a, b = ((1, 1) + tuple(shape))[-2:]
    m, n = ((1, 1) + tuple(target))[-2:]
    for cls, want in (("scalar", (1, 1)), ("col", (1, n)), ("row", (m, 1)), ("full", (m, n))):
        if (a, b) == want:
            return cls
    return None


class _Epilogue:
    """Grows the elementwise work that can ride on one value computed by a kernel."""

    def __init__(self, graph: Graph, taken: set[int], classes: tuple[str, ...]) -> None:
        self.users = graph.users()
        self.outs = {id(o) for o in graph.outputs}
        self.taken = taken
        self.classes = classes

    def single_user(self, n: Node) -> Node | None:
        us = self.users.get(id(n), [])
        return us[0] if len(us) == 1 and id(n) not in self.outs else None

    def operand(self, o: Node, user: Node, target, depth: int) -> list[Node] | None:
        """Nodes to inline so that ``o`` is available in the epilogue, or None if it cannot be."""
        if o.op == "const":
            return []
        inline = (
            OPS[o.op].kind == ELEMENTWISE
            and id(o) not in self.taken
            and depth > 0
            and self.single_user(o) is user
            and operand_class(o.shape, target)
        )
        if inline:
            side: list[Node] = []
            for i in o.inputs:
                got = self.operand(i, o, target, depth - 1)
                if got is None:
                    break
                side += got
            else:
                return side + [o]
        if o.dtype == "float32" and operand_class(o.shape, target) in self.classes:
            return []  # loaded from its buffer
        return None

    def chain(self, start: Node, target) -> list[Node]:
        """Elementwise nodes after ``start`` (each the only user of the previous one)."""
        got: list[Node] = []
        tail = start
        while True:
            u = self.single_user(tail)
            if (
                u is None
                or id(u) in self.taken
                or OPS[u.op].kind != ELEMENTWISE
                or u.shape != tail.shape
                or u.dtype != "float32"
            ):
                return got
            side: list[Node] = []
            for i in u.inputs:
                if i is tail:
                    continue
                more = self.operand(i, u, target, MAX_SIDE_DEPTH)
                if more is None:
                    return got
                side += more
            got += side + [u]
            tail = u


def _colsum(graph: Graph, mm: Node, taken: set[int]) -> Node | None:
    """A ``sum`` of the matmul's B operand over the k axis (the bias gradient beside dW)."""
    b = mm.inputs[1]
    axis = 1 if mm.attrs["transpose_b"] else 0
    for u in graph.users().get(id(b), []):
        if u.op == "sum" and u.attrs["axes"] == (axis,) and id(u) not in taken:
            return u
    return None


def fuse_dense(graph: Graph) -> Graph:
    """Verified graph -> each matmul with its epilogue (and B's column sum) as one fused_dense."""
    q = Quotient(graph)
    taken: set[int] = set()
    groups = []
    order = {id(n): k for k, n in enumerate(graph.nodes)}
    for mm in graph.nodes:
        if mm.op != "matmul" or id(mm) in taken:
            continue
        main = _Epilogue(graph, taken, ("scalar", "col", "row", "full"))
        nodes = [mm] + main.chain(mm, mm.shape)
        cs = _colsum(graph, mm, taken)
        if cs is not None:
            col = _Epilogue(graph, taken | {id(n) for n in nodes}, ("scalar", "col"))
            extra = [cs] + col.chain(cs, (1, mm.shape[1]))
            if q.convex(id(n) for n in nodes + extra):
                nodes += extra
        while not q.convex(id(n) for n in nodes):  # cannot happen for chains; be safe
            nodes.pop()
        if len(nodes) == 1:
            continue  # a bare matmul lowers the same without a group
        nodes.sort(key=lambda n: order[id(n)])
        taken |= {id(n) for n in nodes}
        q.accept(id(n) for n in nodes)
        groups.append(Group("dense", nodes))
    return contract(graph, groups)
