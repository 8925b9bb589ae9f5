"""Graph pictures: an IR Graph as a networkx DiGraph and as Graphviz DOT text.

Node ids are ``n<k>`` with k the node's position in ``graph.nodes`` (the numbering lowering
uses in launch labels), one drawn node per graph node. A fused group (K fused nodes sharing one
body graph, ``attrs['out']`` picking each one's body output) draws its body once as cluster
``c<k>`` (k its first member) holding ``n<k>_<j>``; each member's node ``n<m>`` sits below it,
fed by the body output it names. DOT is written by hand: no
pydot or pygraphviz is needed to produce it.
"""

from __future__ import annotations

import networkx as nx

from .ir import Graph, Node, format_attr
from .ops import MATMUL, MOVEMENT, OPS, REDUCE

# Fill colours by role / fusion kind: what a reader scans for first.
COLORS = {
    "input": "#dbeafe",
    "param": "#fde68a",
    "const": "#f3f4f6",
    "matmul": "#fecaca",
    "reduce": "#c7d2fe",
    "movement": "#e5e7eb",
    "fused": "#bbf7d0",
    "other": "#ffffff",
}


def display_names(graph: Graph) -> dict[int, str]:
    """The names ``Graph.dump`` prints: inputs by name, other nodes ``%<n>``."""
    names: dict[int, str] = {}
    for k, i in enumerate(graph.inputs):
        names[id(i)] = i.name or f"in{k}"
    for n in graph.nodes:
        if id(n) not in names:
            names[id(n)] = "%" + str(len(names))
    return names


def body_of(node: Node) -> Graph | None:
    """The inner graph of a fused node (the first Graph among its attrs), else None."""
    for v in node.attrs.values():
        if isinstance(v, Graph):
            return v
    return None


def _kind(node: Node) -> str:
    if node.op == "input":
        return "param" if node.attrs.get("role") == "param" else "input"
    if node.op == "const":
        return "const"
    if body_of(node) is not None or node.op.startswith("fused"):
        return "fused"
    kind = OPS[node.op].kind if node.op in OPS else ""
    return {MATMUL: "matmul", REDUCE: "reduce", MOVEMENT: "movement"}.get(kind, "other")


def _attr_text(node: Node) -> str:
    attrs = {
        k: v
        for k, v in node.attrs.items()
        if k not in ("role", "index") and not isinstance(v, Graph)
    }
    return ", ".join(f"{k}={format_attr(v)}" for k, v in attrs.items())


def to_networkx(graph: Graph, kernels: dict[int, list[str]] | None = None) -> nx.DiGraph:
    """``graph`` as a DiGraph; node data: label, op, type, shape, dtype, attrs, kind, cluster,
    group (the fused group a node belongs to).

    Args:
        graph: the IR graph.
        kernels: optional ``{node position: [kernel names]}`` shown on the nodes.

    Example:
        >>> g = to_networkx(exe.info["graph"])
        >>> nx.is_directed_acyclic_graph(g)
        True
    """
    kernels = kernels or {}
    g = nx.DiGraph(name=graph.name, clusters={})
    names = display_names(graph)
    users = graph.users()
    groups = fused_groups(graph)
    source: dict[int, str] = {}  # where an edge from each value starts
    inner_srcs: dict[int, dict[int, str]] = {}  # id(body) -> the same for the body's values
    for k, n in enumerate(graph.nodes):
        nid = f"n{k}"
        body = body_of(n)
        group = None if body is None else f"c{groups[id(body)][0]}"
        g.add_node(
            nid,
            **_node_data(n, names[id(n)], len(users.get(id(n), [])), kernels.get(k, []), None),
            group=group,
        )
        source[id(n)] = nid
        if body is None:
            for i in n.inputs:
                g.add_edge(source[id(i)], nid)
            continue
        if id(body) not in inner_srcs:  # the first output of its group draws the body, once
            inner_srcs[id(body)] = _add_body(g, graph, n, body, groups[id(body)], kernels, source)
        out = body.outputs[n.attrs.get("out", 0)] if body.outputs else None
        if out is not None:
            g.add_edge(inner_srcs[id(body)][id(out)], nid)
    return g


def fused_groups(graph: Graph) -> dict[int, list[int]]:
    """``{id(body): [positions of the fused nodes sharing it]}``: one entry per fused group."""
    groups: dict[int, list[int]] = {}
    for k, n in enumerate(graph.nodes):
        body = body_of(n)
        if body is not None:
            groups.setdefault(id(body), []).append(k)
    return groups


def _add_body(
    g: nx.DiGraph,
    graph: Graph,
    n: Node,
    body: Graph,
    members: list[int],
    kernels: dict[int, list[str]],
    source: dict[int, str],
) -> dict[int, str]:
    """Draw ``body`` as cluster ``c<first member>``; returns where each body value's edges start."""
    cid = f"c{members[0]}"
    names = display_names(graph)
    outs = [graph.nodes[m] for m in members]
    ks = [name for m in members for name in kernels.get(m, [])]
    g.graph["clusters"][cid] = {
        "label": f"{', '.join(names[id(o)] for o in outs)}: "
        f"{', '.join(o.type_str() for o in outs)} = {n.op}",
        "node": members[0],
        "nodes": list(members),
        "kernels": list(dict.fromkeys(ks)),
    }
    inner_names = display_names(body)
    inner_users = body.users()
    inner_src: dict[int, str] = {}
    outer_of = {id(bi): n.inputs[j] for j, bi in enumerate(body.inputs) if j < len(n.inputs)}
    for j, b in enumerate(body.nodes):
        if id(b) in outer_of:
            inner_src[id(b)] = source[id(outer_of[id(b)])]
            continue
        bid = f"n{members[0]}_{j}"
        n_users = len(inner_users.get(id(b), []))
        g.add_node(bid, **_node_data(b, inner_names[id(b)], n_users, [], cid), group=cid)
        inner_src[id(b)] = bid
        for i in b.inputs:
            g.add_edge(inner_src[id(i)], bid)
    return inner_src


def _node_data(n: Node, name: str, n_users: int, kernels: list[str], cluster: str | None) -> dict:
    shape = list(n.shape)
    if n.op == "input":
        label = f"{name}\n{n.type_str()}"
    elif n.op == "const":
        label = f"{format_attr(n.attrs.get('value'))}\n{n.type_str()}"
    else:
        attrs = _attr_text(n)
        label = f"{name} = {n.op}" + (f"[{attrs}]" if attrs else "") + f"\n{n.type_str()}"
    return {
        "label": label,
        "name": name,
        "op": n.op,
        "type": n.type_str(),
        "shape": shape,
        "dtype": n.dtype,
        "attrs": _attr_text(n),
        "users": n_users,
        "kind": _kind(n),
        "kernels": list(kernels),
        "cluster": cluster,
    }


def _quote(s: str) -> str:
    """A DOT double-quoted string; newlines become Graphviz's centred line breaks."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(
    graph: Graph | nx.DiGraph, kernels: dict[int, list[str]] | None = None, title: str | None = None
) -> str:
    """DOT text for ``graph``: one box per op, fused groups as ``subgraph cluster_<k>``.

    Args:
        graph: an IR graph or a DiGraph made by ``to_networkx``.
        kernels: ``{node position: [kernel names]}`` (ignored for a DiGraph).
        title: the picture's caption (default: the graph's name).

    Example:
        >>> text = to_dot(exe.info["graph"])
        >>> text.startswith("digraph")
        True
    """
    g = graph if isinstance(graph, nx.DiGraph) else to_networkx(graph, kernels)
    name = title or g.graph.get("name") or "graph"
    out = [
        f"digraph {_quote(g.graph.get('name') or 'graph')} {{",
        f"  graph [rankdir=TB, fontname=Helvetica, fontsize=11, label={_quote(name)}, labelloc=t];",
        '  node [shape=box, style="rounded,filled", fontname=Helvetica, fontsize=10];',
        '  edge [arrowsize=0.6, color="#6b7280"];',
    ]

    def node_line(nid: str, d: dict, indent: str) -> str:
        label = d["label"] + ("\n" + " ".join(d["kernels"]) if d["kernels"] else "")
        shape = ", shape=ellipse" if d["kind"] in ("input", "param", "const") else ""
        color = COLORS.get(d["kind"], COLORS["other"])
        return (
            f"{indent}{nid} [id={_quote(nid)}, label={_quote(label)}, "
            f"fillcolor={_quote(color)}{shape}];"
        )

    for nid, d in g.nodes(data=True):
        if d.get("cluster") is None:
            out.append(node_line(nid, d, "  "))
    for k, (cid, c) in enumerate(g.graph.get("clusters", {}).items()):
        label = c["label"] + ("\n" + " ".join(c["kernels"]) if c["kernels"] else "")
        out.append(f"  subgraph cluster_{k} {{")
        out.append(
            f'    id={_quote(cid)}; label={_quote(label)}; style="rounded,filled"; '
            f'fillcolor={_quote(COLORS["fused"])}; color="#16a34a";'
        )
        for nid, d in g.nodes(data=True):
            if d.get("cluster") == cid:
                out.append(node_line(nid, d, "    "))
        out.append("  }")
    for a, b in g.edges():
        out.append(f"  {a} -> {b};")
    out.append("}")
    return "\n".join(out) + "\n"
