"""The IR: typed nodes (op, inputs, attrs, shape, dtype) and graphs of them.

A Node is also what the lazy API records: ``Tensor`` ops create Nodes through ``make`` and the
compiler copies the reachable part into a ``Graph`` when a value is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

DTYPES = ("float32", "int32", "bool")
SHORT_DTYPE = {"float32": "f32", "int32": "i32", "bool": "bool"}


class IRError(ValueError):
    """A malformed graph or an op applied to operands it does not accept."""


class Node:
    """One value of the graph: ``op(*inputs, **attrs)`` with a static shape and dtype.

    ``data`` holds a realized device buffer for leaves ('buffer' nodes) and for lazy nodes the
    runtime already computed; it is not part of the node's structure.
    """

    __slots__ = (
        "op",
        "inputs",
        "attrs",
        "shape",
        "dtype",
        "data",
        "host",
        "var",
        "name",
        "__weakref__",
    )

    def __init__(
        self,
        op: str,
        inputs: Sequence[Node],
        attrs: dict[str, Any],
        shape: tuple[int, ...],
        dtype: str,
    ) -> None:
        self.op = op
        self.inputs = tuple(inputs)
        self.attrs = attrs
        self.shape = shape
        self.dtype = dtype
        self.data = None
        self.host = None  # a host copy of ``data`` when one is known
        self.var = None
        self.name = None

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def attr_key(self) -> tuple:
        return tuple(sorted(self.attrs.items()))

    def type_str(self) -> str:
        return f"{SHORT_DTYPE.get(self.dtype, self.dtype)}[{','.join(map(str, self.shape))}]"

    def __repr__(self) -> str:
        return f"Node({self.op}, {self.type_str()})"


def toposort(outputs: Iterable[Node], stop=None) -> list[Node]:
    """Nodes reachable from ``outputs`` in dependency order; ``stop(n)`` marks leaves."""
    order: list[Node] = []
    seen: set[int] = set()
    for out in outputs:
        if id(out) in seen:
            continue
        stack = [(out, False)]
        while stack:
            n, expanded = stack.pop()
            if expanded:
                order.append(n)
                continue
            if id(n) in seen:
                continue
            seen.add(id(n))
            stack.append((n, True))
            if stop is None or not stop(n):
                for i in reversed(n.inputs):
                    if id(i) not in seen:
                        stack.append((i, False))
    return order


class Graph:
    """A closed graph: ``inputs`` are 'input' nodes, ``outputs`` any nodes of it."""

    def __init__(self, inputs: list[Node], outputs: list[Node], name: str = "graph") -> None:
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.name = name

    @property
    def nodes(self) -> list[Node]:
        order = toposort(self.outputs)
        listed = {id(n) for n in order}
        # Inputs nobody reads still belong to the signature.
        return [i for i in self.inputs if id(i) not in listed] + order

    def users(self) -> dict[int, list[Node]]:
        users: dict[int, list[Node]] = {}
        for n in self.nodes:
            for i in n.inputs:
                users.setdefault(id(i), []).append(n)
        return users

    def verify(self) -> None:
        """Check that every node is well-formed and that inputs are exactly the graph's leaves."""
        from .ops import OPS

        input_ids = {id(i) for i in self.inputs}
        for i in self.inputs:
            if i.op != "input":
                raise IRError(f"graph input is not an 'input' node: {line_of(i, {})}")
        names: dict[int, str] = {}
        for n in self.nodes:
            if n.dtype not in DTYPES:
                raise IRError(f"unknown dtype {n.dtype!r} in {line_of(n, names)}")
            if n.op == "input":
                if id(n) not in input_ids:
                    raise IRError(f"'input' node not listed in graph inputs: {line_of(n, names)}")
                continue
            if n.op not in OPS:
                raise IRError(f"unknown op {n.op!r} in {line_of(n, names)}")
            shape, dtype = OPS[n.op].infer([(i.shape, i.dtype) for i in n.inputs], n.attrs)
            if tuple(shape) != n.shape or dtype != n.dtype:
                raise IRError(
                    f"node type {n.type_str()} disagrees with its op's rule "
                    f"({dtype}{list(shape)}): {line_of(n, names)}"
                )

    def dump(self, groups: dict[int, str] | None = None) -> str:
        """One line per node, like a jaxpr: ``%3: f32[32,32] = matmul %x, %w0  # users=1``."""
        names: dict[int, str] = {}
        for k, i in enumerate(self.inputs):
            names[id(i)] = i.name or f"in{k}"
        sig = ", ".join(
            f"{names[id(i)]}: {i.type_str()}"
            + (f" {i.attrs.get('role')}" if i.attrs.get("role") not in (None, "input") else "")
            for i in self.inputs
        )
        lines = [f"{self.name}({sig}):"]
        users = self.users()
        for n in self.nodes:
            if n.op == "input":
                continue
            names[id(n)] = str(len(names))
            line = "  " + line_of(n, names)
            extra = [f"users={len(users.get(id(n), []))}"]  # graph outputs: see `return`
            if groups and id(n) in groups:
                extra.append(groups[id(n)])
            lines.append(f"{line:<60} # {' '.join(extra)}")
            if n.op == "fused" and n.attrs["out"] == 0:  # the group's body, once, indented
                lines += ["    | " + b for b in n.attrs["body"].dump().splitlines()]
        outs = ", ".join("%" + names.get(id(o), "?") for o in self.outputs)
        lines.append(f"  return {outs}")
        return "\n".join(lines)


def format_attr(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, tuple):
        return "(" + ",".join(format_attr(x) for x in v) + ")"
    return str(v)


def line_of(n: Node, names: dict[int, str]) -> str:
    """The IR line of one node, e.g. ``%5: f32[32,32] = relu %4``."""
    me = names.get(id(n)) or n.name or f"<{n.op}@{id(n) % 10000}>"
    args = ", ".join("%" + names.get(id(i), i.name or "?") for i in n.inputs)
    if n.op == "fused":  # fused_dense[matmul+add+relu], .k for the k-th output of a group
        a = n.attrs
        multi = f".{a['out']}" if len(a["body"].outputs) > 1 else ""
        return f"%{me}: {n.type_str()} = fused_{a['kind']}{multi}[{a['summary']}] {args}"
    attrs = {k: v for k, v in n.attrs.items() if k != "role"}
    attr_s = "[" + ", ".join(f"{k}={format_attr(v)}" for k, v in attrs.items()) + "]"
    return f"%{me}: {n.type_str()} = {n.op}{attr_s if attrs else ''} {args}".rstrip()
