"""Graph pictures: an IR Graph as a networkx DiGraph and as Graphviz DOT text.

Node ids are ``n<k>`` with k the node's position in ``graph.nodes`` (the numbering lowering
uses in launch labels); the body of a fused node becomes ``n<k>_<j>`` inside a cluster, so a
fused group draws as one box holding the ops its kernel computes. DOT is written by hand: no
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
    """``graph`` as a DiGraph; node data: label, op, type, shape, dtype, attrs, kind, cluster.

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
    # Where an edge from each value starts (a fused node's value leaves from its body output).
    source: dict[int, str] = {}
    for k, n in enumerate(graph.nodes):
        nid = f"n{k}"
        body = body_of(n)
        if body is None:
            g.add_node(
                nid,
                **_node_data(n, names[id(n)], len(users.get(id(n), [])), kernels.get(k, []), None),
            )
            source[id(n)] = nid
            for i in n.inputs:
                g.add_edge(source[id(i)], nid)
            continue
        g.graph["clusters"][nid] = {
            "label": f"{names[id(n)]}: {n.type_str()} = {n.op}",
            "node": k,
            "kernels": kernels.get(k, []),
        }
        inner_names = display_names(body)
        inner_users = body.users()
        inner_src: dict[int, str] = {}
        outer_of = {id(bi): n.inputs[j] for j, bi in enumerate(body.inputs) if j < len(n.inputs)}
        for j, b in enumerate(body.nodes):
            if id(b) in outer_of:
                inner_src[id(b)] = source[id(outer_of[id(b)])]
                continue
            bid = f"{nid}_{j}"
            g.add_node(
                bid, **_node_data(b, inner_names[id(b)], len(inner_users.get(id(b), [])), [], nid)
            )
            inner_src[id(b)] = bid
            for i in b.inputs:
                g.add_edge(inner_src[id(i)], bid)
        source[id(n)] = inner_src[id(body.outputs[0])] if body.outputs else nid
    return g


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
