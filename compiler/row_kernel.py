"""The row kernel of a fused reduce group: per row, reduction loops, element and row stores.

Two layouts. One row per work-item (GPUs), grand totals kept by the items of one work-group
and folded by item 0 after a barrier. On CPUs, ``lanes`` rows per work-item with the loop over
them innermost everywhere: its iterations are independent, so pocl's compiler turns the whole
kernel into vector code, one row per lane (values read by several loops become arrays over the
lanes). With totals one work-item takes every row and keeps the partials the first layout's
work-items would, folded in the same order: both layouts give the same bits.
"""

from __future__ import annotations

from ..kernels import common
from ..kernels import reduce as kreduce
from .codegen import c_template
from .fusion import free_level
from .ir import IRError, Node
from .ops import MOVEMENT, OPS, REDUCE
from .view import View

LEVELS = {"total": 0, "row": 1, "elem": 2}
ROW_CACHE = 64  # rows up to this many elements keep their element values in private arrays
LANES = 8  # rows per CPU work-item: a power of two dividing LOCAL (partials by row % LOCAL)


def lanes_for(rows: int) -> int:
    """Rows a CPU work-item handles together: LANES, fewer (a power of two) for few rows."""
    w = 1
    while w < min(rows, LANES):
        w *= 2
    return w


class RowKernel:
    """Renders a reduce group: per row, reduction loops, then element and row stores."""

    def __init__(
        self, body, full: tuple, axes: tuple, load, keep: set[int] | None, cpu: bool = False
    ) -> None:
        """``keep``: element values to store for later loops (None: every one, to find out
        which are read again, recorded in ``reread``). ``cpu``: the lanes layout."""
        self.body, self.full, self.axes, self.load = body, full, axes, load
        self.kept = [a for a in range(len(full)) if a not in axes]
        self.k0 = tuple(full[a] for a in self.kept)
        self.rows = self.span = 1
        for a, s in enumerate(full):
            if a in axes:
                self.span *= s
            else:
                self.rows *= s
        self.size = self.rows * self.span
        self.level: dict[int, str] = {}
        for n in body.nodes:
            if n.op not in ("input", "const"):
                self.level[id(n)] = self._level(n)
        self.single = "total" in self.level.values()
        self.lines: list[str] = []
        self.ind = "  "
        self.rv: dict[int, str] = {}  # row-scope (and total-scope) variables
        self.n = 0
        self.kc = [f"k{a}" for a in self.kept]
        # Short rows keep each element value in a private array, so that a later loop over
        # the row reads it instead of computing it again (softmax's exp is needed by 5 loops).
        self.keep = keep if 0 < self.span <= ROW_CACHE else set()
        self.cached: dict[int, str] = {}  # node -> its array, once a loop has stored it
        self.stored: list[tuple[Node, str]] = []  # arrays the loop being emitted fills
        self.reread: set[int] = set()
        rstrides = View.contiguous(tuple(full[a] for a in axes)).strides
        terms = [
            f"r{a} * {st}" if st != 1 else f"r{a}"
            for a, st in zip(axes, rstrides, strict=True)
            if full[a] != 1
        ]
        self.ridx = " + ".join(terms) or "0"  # the element's position in its row
        self.lanes = lanes = lanes_for(self.rows) if cpu else 0
        if lanes:  # pocl keeps its clamp a call, and a call keeps a loop scalar
            self.load = lambda x, comps: common.cpu_index(load(x, comps))
        self.at_rows = lanes > 0  # row-scope statements go in a loop over the lanes
        self.lane_open = False
        self.decls: list[str] = []  # per-lane arrays, declared before the block's loops

    # -- levels ---------------------------------------------------------------------------
    def _level(self, n: Node) -> str:
        kind = OPS[n.op].kind
        if n.op == "one_hot":
            return "elem"
        if kind == REDUCE:
            return "row" if n.inputs[0].shape == self.full else "total"
        if kind == MOVEMENT:
            return self.level[id(n.inputs[0])]
        lv = [
            self.level[id(i)]
            if id(i) in self.level
            else free_level(self.full, self.axes, i.shape, n.shape)
            for i in n.inputs
            if i.op != "const"
        ]
        best = max(lv or ["total"], key=LEVELS.__getitem__)
        if best == "total" and not any(self.level.get(id(i)) == "total" for i in n.inputs):
            return "row"  # a scalar of loaded values only: cheap to compute in every row
        return best

    # -- index components -----------------------------------------------------------------
    def comps(self, shape, level: str) -> list[str]:
        if len(shape) == len(self.full):
            it = iter(self.kc)
            return [
                next(it) if a in self.kept else (f"r{a}" if level == "elem" else "0")
                for a in range(len(shape))
            ]
        if tuple(shape) == self.k0:
            return list(self.kc)
        return ["0"] * len(shape)

    def operand_comps(self, o: Node, user: Node, level: str) -> list[str]:
        uc = self.comps(user.shape, level)
        lead = len(user.shape) - len(o.shape)
        return ["0" if s == 1 else uc[lead + i] for i, s in enumerate(o.shape)]

    def row_index(self) -> list[str]:
        """Statements defining the kept index components ``k<axis>`` (and the row ``rid`` of
        lane ``l``: the last block repeats the last row, whose stores are then the same)."""
        out = []
        if self.lanes:
            rid = "rb + l"
            if self.rows % self.lanes:
                rid = f"({rid} < {self.rows} ? {rid} : {self.rows - 1})"
            out.append(f"const int rid = {rid};")
        inner = 1
        for a, s in reversed(list(zip(self.kept, self.k0, strict=True))):
            e = "rid" if inner == 1 else f"rid / {inner}"
            if a != self.kept[0]:
                e = f"({e}) % {s}"
            out.append(f"const int k{a} = {e};")
            inner *= s
        return out

    # -- emission -------------------------------------------------------------------------
    def open_lanes(self) -> None:
        self.lines.append(f"{self.ind}for (int l = 0; l < {self.lanes}; ++l) {{")
        self.ind += "  "
        self.lines += [self.ind + x for x in self.row_index()]

    def close_lanes(self) -> None:
        if self.lane_open:
            self.ind = self.ind[:-2]
            self.lines.append(f"{self.ind}}}")
            self.lane_open = False

    def emit(self, line: str) -> None:
        """A row-scope statement (in lane mode inside a loop over the block's rows)."""
        if self.at_rows and not self.lane_open:
            self.open_lanes()
            self.lane_open = True
        self.lines.append(self.ind + line)

    def declare(self, dtype: str, name: str, init: str, const: str = "") -> str:
        """A row-scope variable set to ``init`` (an array over the lanes in lane mode)."""
        ct = common.CTYPE[dtype]
        if not self.at_rows:
            self.lines.append(f"{self.ind}{const}{ct} {name} = {init};")
            return name
        self.decls.append(f"{ct} {name}[{self.lanes}];")
        self.emit(f"{name}[l] = {init};")
        return f"{name}[l]"

    def var(self, dtype: str, expr: str) -> str:
        self.n += 1
        return self.declare(dtype, f"v{self.n - 1}", expr, "const ")

    def template(self, n: Node, args: list[str]) -> str:
        expr = c_template(n, args)
        return common.cpu_math(expr) if self.lanes else expr

    def operand(self, o: Node, user: Node, level: str, env) -> str:
        if o.op == "const":
            return common.c_literal(o.attrs["value"], o.dtype)
        if o.op == "input":
            return self.load(o, self.operand_comps(o, user, level))
        if self.level[id(o)] == "elem":
            return self.elem(o, env)
        return self.row(o)

    def row(self, n: Node) -> str:
        if id(n) in self.rv:
            return self.rv[id(n)]
        kind = OPS[n.op].kind
        if kind == REDUCE:
            if self.level[id(n)] == "total":
                raise IRError(f"total {n.op} read inside its own row loop")
            self.reduce_loop(n)
        elif kind == MOVEMENT:
            self.rv[id(n)] = self.row(n.inputs[0])
        else:
            lv = self.level[id(n)]
            args = [self.operand(i, n, lv, None) for i in n.inputs]
            self.rv[id(n)] = self.var(n.dtype, self.template(n, args))
        return self.rv[id(n)]

    def elem(self, n: Node, env: dict) -> str:
        if n.op == "const":
            return common.c_literal(n.attrs["value"], n.dtype)
        if n.op == "input":  # a reduction straight over a loaded tensor
            lead = len(self.full) - len(n.shape)
            comps = self.comps(self.full, "elem")[lead:]
            return self.load(n, ["0" if s == 1 else c for s, c in zip(n.shape, comps, strict=True)])
        if self.level[id(n)] != "elem":
            return self.rv[id(n)]
        lane = "[l]" if self.lanes else ""
        if id(n) not in env and id(n) in self.cached:
            self.reread.add(id(n))
            return f"{self.cached[id(n)]}[{self.ridx}]{lane}"
        if id(n) not in env:
            if n.op == "one_hot":
                expr = self.one_hot(n)
            else:
                expr = self.template(n, [self.operand(i, n, "elem", env) for i in n.inputs])
            env[id(n)] = v = self.var(n.dtype, expr)
            if self.keep is None or id(n) in self.keep:
                self.lines.append(f"{self.ind}{v}s[{self.ridx}]{lane} = {v};")
                self.stored.append((n, f"{v}s"))
        return env[id(n)]

    def one_hot(self, n: Node) -> str:
        """``on`` where the row's index equals the position along the reduced (last) axis."""
        i, a = n.inputs[0], n.attrs
        if i.op == "const":
            iv = common.c_literal(i.attrs["value"], i.dtype)
        elif i.op == "input":
            iv = self.load(i, list(self.kc))
        else:
            iv = self.row(i)
        on, off = (
            common.c_literal(a["on_value"], n.dtype),
            common.c_literal(a["off_value"], n.dtype),
        )
        return f"(({iv}) == r{self.axes[-1]} ? {on} : {off})"

    def row_deps(self, n: Node, got: list, seen: set) -> None:
        """Row-level nodes the element-level DAG of ``n`` reads (emitted before the loop)."""
        if id(n) in seen or n.op in ("input", "const"):
            return
        seen.add(id(n))
        if self.level[id(n)] != "elem":
            got.append(n)
            return
        for i in n.inputs:
            self.row_deps(i, got, seen)

    def loop(self, targets: list[Node], each) -> None:
        """Open the loops over the reduced axes (then the lanes), emit ``targets`` per
        element, call ``each`` with their values."""
        deps: list[Node] = []
        seen: set[int] = set()
        for t in targets:
            if self.level.get(id(t), "elem") == "elem":
                self.row_deps(t, deps, seen)
            else:
                deps.append(t)
        for d in deps:
            self.row(d)
        self.close_lanes()
        outer_ind, start = self.ind, len(self.lines)
        for a in self.axes:
            self.lines.append(f"{self.ind}for (int r{a} = 0; r{a} < {self.full[a]}; ++r{a}) {{")
            self.ind += "  "
        env: dict[int, str] = {}
        self.stored: list[tuple[Node, str]] = []
        rows, self.at_rows = self.at_rows, False
        if rows:
            self.open_lanes()
        each([self.elem(t, env) for t in targets])
        self.at_rows = rows
        while self.ind != outer_ind:
            self.ind = self.ind[:-2]
            self.lines.append(f"{self.ind}}}")
        lanes = f"[{self.lanes}]" if self.lanes else ""
        self.lines[start:start] = [
            f"{outer_ind}{common.CTYPE[n.dtype]} {a}[{self.span}]{lanes};" for n, a in self.stored
        ]
        self.cached.update((id(n), a) for n, a in self.stored)

    def reduce_loop(self, r: Node) -> None:
        acc = f"acc{self.n}"
        self.n += 1
        if r.op in ("argmax", "argmin"):
            # TF.js's scan: the first strict extreme wins; NaN never compares, so it is
            # skipped unless it comes first (then index 0 stays). Selects, not a branch, so
            # that a lane loop stays vector code.
            (ax,) = self.axes
            best, cmp = f"best{self.n - 1}", ">" if r.op == "argmax" else "<"
            best = self.declare(r.inputs[0].dtype, best, "0")
            acc = self.declare("int32", acc, "0")

            def each(v: list[str]) -> None:
                self.lines.append(f"{self.ind}const int hit = r{ax} == 0 || {v[0]} {cmp} {best};")
                self.lines.append(f"{self.ind}{best} = hit ? {v[0]} : {best};")
                self.lines.append(f"{self.ind}{acc} = hit ? r{ax} : {acc};")

            self.loop([r.inputs[0]], each)
        else:
            acc = self.declare(r.dtype, acc, _init(r))
            self.loop(
                [r.inputs[0]], lambda v: self.lines.append(f"{self.ind}{_combine(r, acc, v[0])}")
            )
        self.rv[id(r)] = acc

    # -- the kernel -----------------------------------------------------------------------
    def geometry(self) -> tuple[tuple[int], tuple[int]]:
        """(global size, local size) of the launch."""
        from .lower import LOCAL, round_up

        if not self.lanes:
            return (LOCAL if self.single else round_up(self.rows, LOCAL),), (LOCAL,)
        if self.single:
            return (1,), (1,)
        return (round_up(-(-self.rows // self.lanes), LOCAL),), (LOCAL,)

    def render(self) -> str:
        from .lower import LOCAL

        outs = self.body.outputs
        totals = [
            n
            for n in self.body.nodes
            if self.level.get(id(n)) == "total" and OPS[n.op].kind == REDUCE
        ]
        for j, t in enumerate(totals):
            self.rv[id(t)] = f"tacc{j}"
        ct = [common.CTYPE[t.dtype] for t in totals]
        if self.lanes and self.single:  # partials by row % LOCAL, as the items keep them
            head = [f"  {ct[j]} part{j}[{LOCAL}];" for j in range(len(totals))]
            head += [
                f"  for (int j = 0; j < {LOCAL}; ++j) part{j}[j] = {_init(t)};"
                for j, t in enumerate(totals)
            ]
            head.append(f"  for (int rb = 0; rb < {self.rows}; rb += {self.lanes}) {{")
            self.ind = "    "
        elif self.lanes:
            head = [f"  const int rb = get_global_id(0) * {self.lanes};"]
            head.append(f"  if (rb >= {self.rows}) return;")
        elif self.single:
            # One work-group: its items take rows in turn and keep partial totals, which item
            # 0 folds in a fixed order (deterministic) after a barrier.
            head = ["  const int lid = get_local_id(0);"]  # the only work-group
            head += [f"  {ct[j]} tacc{j} = {_init(t)};" for j, t in enumerate(totals)]
            head.append(f"  for (int rid = lid; rid < {self.rows}; rid += {LOCAL}) {{")
            self.ind = "    "
        else:
            head = ["  const int gid = get_global_id(0);"]
            head += [f"  if (gid >= {self.rows}) return;", "  const int rid = gid;"]
        if not self.lanes:
            self.lines += [self.ind + x for x in self.row_index()]
        elem_outs = [
            k
            for k, o in enumerate(outs)
            if self.level.get(id(o)) != "total" and o.shape == self.full
        ]
        row_outs = [
            k for k, o in enumerate(outs) if self.level.get(id(o)) == "row" and k not in elem_outs
        ]
        for k in row_outs:  # a scalar output is the same in every row: store it at 0
            at = "rid" if outs[k].size == self.rows else "0"
            v = self.row(outs[k])
            self.emit(f"out{k}[{at}] = {v};")
        if elem_outs:
            flat = (
                " + ".join(
                    f"r{a} * {st}" if a in self.axes else f"k{a} * {st}"
                    for a, st in enumerate(View.contiguous(self.full).strides)
                    if self.full[a] != 1
                )
                or "0"
            )

            def store(vals):
                for k, v in zip(elem_outs, vals, strict=True):
                    self.lines.append(f"{self.ind}out{k}[{flat}] = {v};")

            self.loop([outs[k] for k in elem_outs], store)
        terms = [self.row(t.inputs[0]) for t in totals]
        if self.lanes:
            for j, (t, v) in enumerate(zip(totals, terms, strict=True)):
                add = _combine(t, f"part{j}[rb % {LOCAL} + l]", v)  # lanes divides LOCAL
                if self.rows % self.lanes:  # the repeated last row adds nothing
                    add = f"if (rb + l < {self.rows}) {add}"
                self.emit(add)
            self.close_lanes()
            self.lines[:0] = [self.ind + d for d in self.decls]
            self.at_rows = False
        else:
            for j, t in enumerate(totals):
                self.lines.append(f"{self.ind}{_combine(t, f'tacc{j}', terms[j])}")
        if self.single:
            self.ind = "  "
            self.lines.append("  }")
            if not self.lanes:
                for j in range(len(totals)):
                    self.lines.append(f"  __local {ct[j]} part{j}[{LOCAL}];")
                    self.lines.append(f"  part{j}[lid] = tacc{j};")
                self.lines += ["  barrier(CLK_LOCAL_MEM_FENCE);", "  if (lid != 0) return;"]
            for j, t in enumerate(totals):
                self.lines.append(f"  {ct[j] + ' ' if self.lanes else ''}tacc{j} = {_init(t)};")
                fold = _combine(t, f"tacc{j}", f"part{j}[j]")
                self.lines.append(f"  for (int j = 0; j < {LOCAL}; ++j) {fold}")
            for n in self.body.nodes:
                if self.level.get(id(n)) == "total" and id(n) not in self.rv:
                    self.row(n)
            for k, o in enumerate(outs):
                if self.level.get(id(o)) == "total":
                    self.lines.append(f"  out{k}[0] = {self.rv[id(o)]};")
        return "\n".join(head + self.lines) + "\n"


def _init(r: Node) -> str:
    from .lower import OP_INIT

    return kreduce.init_value(OP_INIT[r.op], r.dtype)


def _combine(r: Node, acc: str, v: str) -> str:
    return kreduce.fold_stmt(r.op, r.dtype, acc, v)
