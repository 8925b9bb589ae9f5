"""C text for one output element: index arithmetic over views and the ops' C templates."""

from __future__ import annotations

from collections.abc import Callable

from ..kernels.common import CTYPE, c_literal
from .ir import Node
from .ops import OPS
from .view import Index, View


def view_index(
    view: View, comps: list[str], index_load: Callable[[Index, str], str] | None = None
) -> str:
    """``offset + sum(comp_k * stride_k)`` with zero strides and unit factors dropped.

    An indexed axis contributes ``clamp(idx, 0, bound - 1) * stride`` where ``idx`` is
    ``index_load(index, position)``, the C expression of the index vector's element.
    """
    terms = []
    for k, (c, s, st) in enumerate(zip(comps, view.shape, view.strides, strict=True)):
        ix = view.indexed(k) if view.index else None
        if st == 0 or (s == 1 and ix is None):
            continue
        if ix is not None:
            if index_load is None:
                raise ValueError("an indexed view needs index_load to read its indices")
            c = f"clamp({index_load(ix, view_index(ix.view, [c]))}, 0, {ix.bound - 1})"
        terms.append(c if st == 1 else f"({c})*{st}")
    if view.offset:
        terms.append(str(view.offset))
    return " + ".join(terms) if terms else "0"


def c_template(node: Node, args: list[str]) -> str:
    """The C expression of an elementwise node over operand expressions."""
    d = OPS[node.op]
    if node.op == "cast":
        dst = node.dtype
        if dst == "bool":
            return f"({args[0]} != 0)"
        return f"(({CTYPE[dst]})({args[0]}))"
    t = d.c
    if isinstance(t, dict):
        t = t.get(node.inputs[0].dtype if node.inputs else node.dtype, t.get(None))
        if t is None:
            raise NotImplementedError(f"{node.op} has no kernel for dtype {node.inputs[0].dtype}")
    extra = {k: v for k, v in node.attrs.items() if isinstance(v, int | float)}
    expr = t.format(*args, **extra)
    # Arithmetic on bools (add, sub, maximum, ...) computes in int: store 0/1 like numpy.
    if node.dtype == "bool" and all(i.dtype == "bool" for i in node.inputs):
        return f"({expr} != 0)"
    return expr


class PointwiseBody:
    """Statements computing nodes at the output index ``gid`` of a kernel of shape ``shape``.

    ``load(node, view, comps)`` is called for each value read from outside; it returns a C
    expression (a buffer element or a literal).
    """

    def __init__(self, shape: tuple[int, ...], load: Callable[[Node, list[str]], str]) -> None:
        self.shape = shape
        self.lines: list[str] = []
        self.load = load
        self._comps: dict[int, str] = {}
        self._n = 0

    def comp(self, k: int) -> str:
        """The k-th component of the output multi-index, emitted once on first use."""
        if k not in self._comps:
            inner = 1
            for s in self.shape[k + 1 :]:
                inner *= s
            e = "gid" if inner == 1 else f"gid / {inner}"
            if k > 0:
                e = f"({e}) % {self.shape[k]}"
            self.lines.append(f"  const int c{k} = {e};")
            self._comps[k] = f"c{k}"
        return self._comps[k]

    def comps_for(self, shape: tuple[int, ...]) -> list[str]:
        """Components indexing an operand of ``shape`` broadcast against the output shape."""
        lead = len(self.shape) - len(shape)
        return ["0" if s == 1 else self.comp(lead + i) for i, s in enumerate(shape)]

    def var(self, dtype: str, expr: str) -> str:
        name = f"v{self._n}"
        self._n += 1
        self.lines.append(f"  const {CTYPE[dtype]} {name} = {expr};")
        return name

    def value(self, node: Node, env: dict[int, str]) -> str:
        """Emit ``node`` (operands from ``env`` or loaded) and return its variable."""
        if id(node) in env:
            return env[id(node)]

        def operand(i: Node) -> str:
            if id(i) in env:
                return env[id(i)]
            if i.op == "const":
                return c_literal(i.attrs["value"], i.dtype)
            return self.load(i, self.comps_for(i.shape))

        op, a = node.op, node.attrs
        if OPS[op].c is not None or op == "cast":
            expr = c_template(node, [operand(i) for i in node.inputs])
        elif op == "concat":
            expr = self._concat(node)
        elif op == "pad":
            comps = self.comps_for(node.shape)
            conds, src = [], []
            for c, (lo, _), s in zip(comps, a["paddings"], node.inputs[0].shape, strict=True):
                if lo or s != node.shape[len(src)]:
                    conds.append(f"({c}) >= {lo} && ({c}) < {lo + s}")
                src.append(f"({c} - {lo})" if lo else c)
            x = node.inputs[0]
            val = self.load(x, src)
            fill = c_literal(a["value"], node.dtype)
            expr = f"(({' && '.join(conds)}) ? {val} : {fill})" if conds else val
        elif op == "gather":
            x, idx = node.inputs
            ax, ri = a["axis"], len(idx.shape)
            comps = self.comps_for(node.shape)
            gi = self.var("int32", self.load(idx, comps[ax : ax + ri]))
            gi = self.var("int32", f"clamp({gi}, 0, {x.shape[ax] - 1})")
            expr = self.load(x, comps[:ax] + [gi] + comps[ax + ri :])
        elif op == "one_hot":
            comps = self.comps_for(node.shape)
            ind = self.load(node.inputs[0], comps[:-1])
            on, off = c_literal(a["on_value"], node.dtype), c_literal(a["off_value"], node.dtype)
            expr = f"(({ind}) == {comps[-1]} ? {on} : {off})"
        else:
            raise NotImplementedError(f"no pointwise rendering for {op}")
        v = self.var(node.dtype, expr)
        env[id(node)] = v
        return v

    def _concat(self, node: Node) -> str:
        ax = node.attrs["axis"]
        comps = self.comps_for(node.shape)
        res = self.var(node.dtype, "0")
        self.lines[-1] = f"  {CTYPE[node.dtype]} {res};"
        if len(node.inputs) == 1:
            self.lines.append(f"  {res} = {self.load(node.inputs[0], comps)};")
            return res
        start = 0
        for k, x in enumerate(node.inputs):
            src = list(comps)
            src[ax] = f"({comps[ax]} - {start})" if start else comps[ax]
            stop = start + x.shape[ax]
            cond = "else" if k == len(node.inputs) - 1 else f"{'else ' if k else ''}if "
            cond += f"({comps[ax]} < {stop})" if k < len(node.inputs) - 1 else ""
            self.lines.append(f"  {cond} {res} = {self.load(x, src)};")
            start = stop
        return res
