"""Fused groups in the IR, and the graph analysis the fusion passes share.

A group of K outputs becomes K ``fused`` nodes that share one ``body`` (a small Graph whose
'input' nodes correspond positionally to the fused nodes' inputs); attribute ``out`` says which
body output a node is. The lowerer emits one kernel per body; the interpreter evaluates the body.
Dumps show ``%5: f32[32,32] = fused_dense[matmul+add+relu] %x, %w0, %b0``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from .ir import Graph, IRError, Node
from .ops import OpDef, register

FUSED = "fused"  # the fusion kind of the 'fused' op itself: already a kernel
KINDS = ("pointwise", "dense", "reduce")


def _fused_infer(types, attrs):
    body: Graph = attrs["body"]
    want = [(i.shape, i.dtype) for i in body.inputs]
    got = [(tuple(s), d) for s, d in types]
    if got != want:
        raise IRError(f"fused_{attrs['kind']}: inputs {got} do not match its body's {want}")
    o = body.outputs[attrs["out"]]
    return o.shape, o.dtype


def _fused_ref(*args, kind, body, out, summary="", **_):
    from .interpreter import interpret

    wide = any(np.asarray(a).dtype == np.float64 for a in args)
    return interpret(body, list(args), precision="float64" if wide else "float32")[out]


register(
    OpDef(
        "fused",
        FUSED,
        _fused_infer,
        _fused_ref,
        None,
        None,
        doc="a fused group: one kernel computing its body's outputs",
    )
)


@dataclass
class Group:
    """A set of nodes of one graph that will become one kernel."""

    kind: str
    nodes: list[Node]
    summary: str = ""
    extra: dict = field(default_factory=dict)


def summarize(nodes: Iterable[Node]) -> str:
    """``matmul+add+relu``: the compute ops of a group, in order, for dumps and kernel names."""
    ops = [n.op for n in nodes if n.op not in ("const", "reshape", "broadcast_to")]
    return "+".join(ops) if len(ops) <= 6 else "+".join(ops[:5]) + f"+..{len(ops) - 5}"


def digraph(graph: Graph) -> nx.DiGraph:
    """The dependency graph over node ids (edge operand -> user)."""
    g = nx.DiGraph()
    for n in graph.nodes:
        g.add_node(id(n))
        for i in n.inputs:
            g.add_edge(id(i), id(n))
    return g


def convex(g: nx.DiGraph, members: set[int]) -> bool:
    """True when no path leaves ``members`` and re-enters it (contracting it makes no cycle)."""
    frontier = [s for m in members for s in g.successors(m) if s not in members]
    seen = set(frontier)
    while frontier:
        n = frontier.pop()
        for s in g.successors(n):
            if s in members:
                return False
            if s not in seen:
                seen.add(s)
                frontier.append(s)
    return True


def contract(graph: Graph, groups: list[Group]) -> Graph:
    """A new graph where each group is replaced by its fused nodes (one per group output)."""
    if not groups:
        return graph
    member = {id(n): k for k, gr in enumerate(groups) for n in gr.nodes}
    users = graph.users()
    out_ids = {id(o) for o in graph.outputs}
    new: dict[int, Node] = {id(i): i for i in graph.inputs}

    built: set[int] = set()

    def get(n: Node) -> Node | None:
        """The node standing for ``n`` in the new graph (None for a group's inner node)."""
        if id(n) not in new:
            if id(n) in member:
                if member[id(n)] not in built:
                    built.add(member[id(n)])
                    build(member[id(n)])
                return new.get(id(n))
            else:
                ins = [get(i) for i in n.inputs]
                same = all(a is b for a, b in zip(ins, n.inputs, strict=True))
                new[id(n)] = n if same else _clone(n, ins)
        return new[id(n)]

    def build(k: int) -> None:
        gr = groups[k]
        ids = {id(n) for n in gr.nodes}
        ins: list[Node] = []
        seen: set[int] = set()
        for n in gr.nodes:
            for i in n.inputs:
                if id(i) not in ids and id(i) not in seen and i.op != "const":
                    seen.add(id(i))
                    ins.append(i)
        outs = [
            n
            for n in gr.nodes
            if id(n) in out_ids or any(id(u) not in ids for u in users.get(id(n), []))
        ]
        bmap: dict[int, Node] = {}
        binputs = []
        for j, i in enumerate(ins):
            x = Node("input", (), {"index": j, "role": "input"}, i.shape, i.dtype)
            x.name = f"a{j}"
            bmap[id(i)] = x
            binputs.append(x)
        for n in gr.nodes:
            bmap[id(n)] = _clone(n, [bmap.get(id(i), i) for i in n.inputs])
        body = Graph(binputs, [bmap[id(o)] for o in outs], f"fused_{gr.kind}")
        outer = [get(i) for i in ins]
        summary = gr.summary or summarize(gr.nodes)
        for j, o in enumerate(outs):
            attrs = {"kind": gr.kind, "body": body, "out": j, "summary": summary}
            attrs.update(gr.extra)
            new[id(o)] = Node("fused", outer, attrs, o.shape, o.dtype)

    for n in graph.nodes:
        get(n)
    return Graph(graph.inputs, [get(o) for o in graph.outputs], graph.name)


def _clone(n: Node, inputs: list[Node]) -> Node:
    c = Node(n.op, inputs, dict(n.attrs), n.shape, n.dtype)
    c.name = n.name
    return c


def fused_groups(graph: Graph) -> dict[int, list[Node]]:
    """id(body) -> its fused nodes in the graph (in output order)."""
    out: dict[int, list[Node]] = {}
    for n in graph.nodes:
        if n.op == "fused":
            out.setdefault(id(n.attrs["body"]), []).append(n)
    return out


def gather_is_view(n: Node) -> bool:
    """A gather by a 1-D index needs no kernel of its own: lowering makes it an indexed view
    of its source, which the kernels reading it load through."""
    return n.op == "gather" and len(n.inputs[1].shape) == 1


def read_in_place(n: Node, users: dict[int, list[Node]], outs: set[int]) -> bool:
    """True when every reader of the view ``n`` loads it element by element (pointwise and
    row kernels, a GEMM reading it as its row-gathered A); other readers (a GEMM's B or
    epilogue, a standalone reduction, a graph output) need it materialised, and then a gather
    is better fused side by side with other pointwise work."""
    from .ops import ELEMENTWISE, INJECTIVE, MOVEMENT, OPS

    if id(n) in outs:
        return False
    for u in users.get(id(n), []):
        if u.op in ("matmul", "fused") and gathered_a_operand(n, u):
            continue
        if u.op == "fused":
            if u.attrs["kind"] not in ("pointwise", "reduce"):
                return False
        elif u.op == "reshape" and [d for d in u.shape if d != 1] != [d for d in n.shape if d != 1]:
            return False  # only unit axes may come and go on an indexed view
        elif OPS[u.op].kind == MOVEMENT:
            if not read_in_place(u, users, outs):
                return False
        elif OPS[u.op].kind not in (ELEMENTWISE, INJECTIVE):
            return False
    return True


def gathered_a_operand(n: Node, u: Node) -> bool:
    """``u`` is a matmul (or fused_dense) reading the row gather ``n`` only as its A operand,
    which the GEMM loads through the index (x[idx] @ W, and x[idx]^T @ dY with rows along K)."""
    if not (gather_is_view(n) and n.attrs["axis"] == 0 and len(n.shape) == 2):
        return False
    if u.op == "matmul":
        return u.inputs[0] is n and u.inputs[1] is not n
    if u.attrs["kind"] != "dense":
        return False
    body = u.attrs["body"]
    slots = [b for b, x in zip(body.inputs, u.inputs, strict=True) if x is n]
    inner = body.users()
    for b in slots:
        readers = inner.get(id(b), [])
        if len(readers) != 1 or readers[0].op != "matmul":
            return False
        if readers[0].inputs[0] is not b or readers[0].inputs[1] is b:
            return False
    return True


def kernel_count(graph: Graph) -> int:
    """Compute kernels the graph lowers to at least (one per fused body or compute node)."""
    from .ops import MOVEMENT, OPS, SOURCE

    bodies = set()
    count = 0
    users, outs = graph.users(), {id(o) for o in graph.outputs}
    for n in graph.nodes:
        if n.op == "fused":
            if id(n.attrs["body"]) not in bodies:
                bodies.add(id(n.attrs["body"]))
                count += 1
        elif OPS[n.op].kind not in (MOVEMENT, SOURCE) and not (
            gather_is_view(n) and read_in_place(n, users, outs)
        ):
            count += 1
    return count


def free_level(full: tuple, axes: tuple, shape: tuple, frame: tuple) -> str:
    """In a reduce group over ``full`` reducing ``axes``: how a value of ``shape`` read by a
    node of shape ``frame`` varies: 'elem' (along reduced axes), 'row' or 'total' (constant)."""
    kept = tuple(s for a, s in enumerate(full) if a not in axes)
    if tuple(frame) == kept and len(frame) != len(full):
        return "row" if any(s != 1 for s in shape) else "total"
    if len(shape) > len(full):
        return "elem"
    pad = (1,) * (len(full) - len(shape)) + tuple(shape)
    if any(pad[a] != 1 for a in axes):
        return "elem"
    return "row" if any(s != 1 for s in pad) else "total"


class Quotient:
    """The dependency graph with the groups accepted so far contracted to one node each, so a
    new group is checked against them too (two convex groups can still form a cycle)."""

    def __init__(self, graph: Graph) -> None:
        self.g = digraph(graph)
        self.rep: dict[int, int] = {}

    def find(self, i: int) -> int:
        while i in self.rep:
            i = self.rep[i]
        return i

    def convex(self, ids: Iterable[int]) -> bool:
        return convex(self.g, {self.find(i) for i in ids})

    def accept(self, ids: Iterable[int]) -> int:
        """Contract ``ids`` (and the groups they belong to) into one node; returns it."""
        reps = sorted({self.find(i) for i in ids})
        r = reps[0]
        for x in reps[1:]:
            nx.contracted_nodes(self.g, r, x, self_loops=False, copy=False)
            self.rep[x] = r
        return r

    def related(self, a: Iterable[int], b: Iterable[int]) -> bool:
        """True when some path joins the two sets (either way)."""
        ra, rb = {self.find(i) for i in a}, {self.find(i) for i in b}
        if ra & rb:
            return True
        down = set().union(*(nx.descendants(self.g, r) for r in ra))
        up = set().union(*(nx.ancestors(self.g, r) for r in ra))
        return bool((down | up) & rb)
