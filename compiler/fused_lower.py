"""Lowering of fused groups: one kernel per body (pointwise, dense GEMM epilogue, row reduce)."""

from __future__ import annotations

from ..kernels import common
from ..kernels.gemm import GemmEpilogue, plan_gemm
from .codegen import PointwiseBody, c_template
from .executable import ScalarArg
from .fusion import free_level
from .ir import IRError, Node, line_of
from .ops import MOVEMENT, OPS, REDUCE
from .view import View

LEVELS = {"total": 0, "row": 1, "elem": 2}
ROW_CACHE = 64  # rows up to this many elements keep their element values in private arrays


def lower_fused(lw, node: Node) -> None:
    """Emit the kernel of ``node``'s body once and place every output of the group."""
    body = node.attrs["body"]
    done = lw.__dict__.setdefault("_fused_out", {})
    if id(body) not in done:
        outer = {id(b): x for b, x in zip(body.inputs, node.inputs, strict=True)}
        outs = [lw.new_vbuf(o) for o in body.outputs]
        kind = node.attrs["kind"]
        if kind == "pointwise":
            _pointwise(lw, node, body, outer, outs)
        elif kind == "dense":
            _dense(lw, node, body, outer, outs)
        elif kind == "reduce":
            _reduce(lw, node, body, outer, outs)
        else:
            raise IRError(f"unknown fused kind {kind!r}: {line_of(node, lw.names)}")
        done[id(body)] = outs
    lw.loc[id(node)] = (done[id(body)][node.attrs["out"]], View.contiguous(node.shape))


def _loader(lw, outer):
    """A load callback over body inputs (mapped to the outer nodes) plus its params and args."""
    load, params, args = lw._inputs_collector()

    def body_load(bx: Node, comps: list[str]) -> str:
        return load(outer[id(bx)], comps)

    return body_load, params, args


def _needed(outputs: list[Node]) -> list[Node]:
    from .ir import toposort

    return [n for n in toposort(outputs) if n.op not in ("input", "const")]


def _label(lw, node: Node) -> str:
    return f"{line_of(node, lw.names)} -> {len(node.attrs['body'].outputs)} outputs"


# --- pointwise: one work-item per element; outputs of several shapes become gid segments ----
def _pointwise(lw, node, body, outer, outs) -> None:
    from .lower import LOCAL, VLaunch, kernel_source, round_up

    load, params, args = _loader(lw, outer)
    segments: dict[tuple, list[int]] = {}
    for k, o in enumerate(body.outputs):
        segments.setdefault(o.shape, []).append(k)
    blocks, start = [], 0
    for shape, ks in segments.items():
        pb = PointwiseBody(shape, load)
        env: dict[int, str] = {}
        for n in _needed([body.outputs[k] for k in ks]):
            pb.value(n, env)
        for k in ks:
            o = body.outputs[k]
            pb.lines.append(f"  out{k}[gid] = {env[id(o)]};")
        size = 1
        for s in shape:
            size *= s
        blocks.append((start, size, pb.lines))
        start += size
    total = start
    outp = [(f"out{k}", o.dtype, True) for k, o in enumerate(body.outputs)]
    if len(blocks) == 1:
        src = common.render_pointwise("KNAME", outp + params, total, "\n".join(blocks[0][2]) + "\n")
    else:
        text = ["  const int g0 = get_global_id(0);"]
        for j, (s0, size, lines) in enumerate(blocks):
            cond = f"g0 < {s0 + size}" if j < len(blocks) - 1 else f"g0 < {total}"
            text.append(f"  {'else ' if j else ''}if ({cond}) {{")
            text.append(f"    const int gid = g0 - {s0};")
            text += ["  " + ln for ln in lines]
            text.append("  }")
        src = (
            f"{common.PREAMBLE}\n__kernel void KNAME({common.kernel_params(outp + params)}) "
            "{\n" + "\n".join(text) + "\n}\n"
        )
    nbytes = sum(lw.vbufs[a[1]].nbytes for a in args) + sum(lw.vbufs[v].nbytes for v in outs)
    lw.launches.append(
        VLaunch(
            kernel_source("fused_pointwise", src),
            [("buf", v) for v in outs] + args,
            (round_up(total, LOCAL),),
            (LOCAL,),
            _label(lw, node),
            total,
            nbytes,
        )
    )


# --- dense: GEMM with the epilogue expression and the column sum of B ------------------------
def _dense(lw, node, body, outer, outs) -> None:
    from .lower import VBuf, VLaunch, kernel_source

    (mm,) = [n for n in body.nodes if n.op == "matmul"]
    sums = [n for n in body.nodes if n.op == "sum" and n.inputs[0] is mm.inputs[1]]
    deps_mm = _descendants(body, mm)
    main_k = [k for k, o in enumerate(body.outputs) if id(o) in deps_mm]
    cs_k = [k for k, o in enumerate(body.outputs) if id(o) not in deps_mm]
    if len(main_k) != 1 or len(cs_k) > 1:
        raise IRError(
            f"fused_dense needs one matmul output and at most one column sum: "
            f"{line_of(node, lw.names)}"
        )
    ab, ta, opts, gargs = lw.a_operand(outer[id(mm.inputs[0])])
    bb, tb = lw.matmul_operand(outer[id(mm.inputs[1])])
    ta ^= mm.attrs["transpose_a"]
    tb ^= mm.attrs["transpose_b"]
    m, n = mm.shape
    a = mm.inputs[0]
    k = a.shape[0] if mm.attrs["transpose_a"] else a.shape[1]
    main_extras: list = []
    main_expr = _epilogue_expr(lw, outer, body.outputs[main_k[0]], mm, (m, n), main_extras)
    cs_epi, cs_extras = None, []
    if cs_k:
        cs_expr = _epilogue_expr(lw, outer, body.outputs[cs_k[0]], sums[0], (1, n), cs_extras)
        cs_epi = GemmEpilogue(tuple(c for c, _ in cs_extras), cs_expr)
    epi = GemmEpilogue(tuple(c for c, _ in main_extras), main_expr)
    plan = plan_gemm(
        m,
        n,
        k,
        trans_a=ta,
        trans_b=tb,
        epilogue=epi,
        colsum=cs_epi,
        device_kind=lw.device_kind,
        **opts,
    )
    named = {
        "A": ("buf", ab),
        "B": ("buf", bb),
        "C": ("buf", outs[main_k[0]]),
        "M": ScalarArg("int32", m),
        "N": ScalarArg("int32", n),
        "K": ScalarArg("int32", k),
        **gargs,
    }
    named.update({f"E{i}": ("buf", v) for i, (_, v) in enumerate(main_extras)})
    if cs_k:
        named["S"] = ("buf", outs[cs_k[0]])
        named.update({f"F{i}": ("buf", v) for i, (_, v) in enumerate(cs_extras)})
    for name, nbytes in plan.temps.items():
        lw.vbufs.append(VBuf(nbytes, "float32", (nbytes // 4,), "temp"))
        named[name] = ("buf", len(lw.vbufs) - 1)
    for gl in plan.launches:
        lw.launches.append(
            VLaunch(
                kernel_source(gl.name, gl.source.replace(gl.name, "KNAME")),
                [named[x] for x in gl.args],
                tuple(gl.global_size),
                tuple(gl.local_size) if gl.local_size else None,
                _label(lw, node),
                plan.flops if gl is plan.launches[-1] else 0,
                4 * (m * k + k * n + m * n),
            )
        )


def _descendants(body, start: Node) -> set[int]:
    got = {id(start)}
    for n in body.nodes:
        if any(id(i) in got for i in n.inputs):
            got.add(id(n))
    return got


def _epilogue_expr(lw, outer, out: Node, acc: Node, target, extras: list) -> str:
    """C expression of ``out`` over ``acc`` and loaded extras (appended as (class, vbuf))."""
    memo: dict[int, str] = {id(acc): "acc"}

    def leaf(x: Node) -> str:
        base, view = lw.loc[id(x)]
        if isinstance(base, Node):
            return common.c_literal(base.attrs["value"], base.dtype)
        cls = _view_class(view, target)
        if cls is None:
            base = lw.plain(x)
            cls = _view_class(View.contiguous(x.shape), target)
        for j, (c, v) in enumerate(extras):
            if (c, v) == (cls, base):
                return f"e{j}"
        extras.append((cls, base))
        return f"e{len(extras) - 1}"

    def expr(x: Node) -> str:
        if id(x) not in memo:
            if x.op == "input":
                memo[id(x)] = leaf(outer[id(x)])
            elif x.op == "const":
                memo[id(x)] = common.c_literal(x.attrs["value"], x.dtype)
            else:
                memo[id(x)] = c_template(x, [expr(i) for i in x.inputs])
        return memo[id(x)]

    return expr(out)


def _view_class(view: View, target) -> str | None:
    """'scalar' / 'col' / 'row' / 'full' when ``view`` broadcast to [M,N] is one of those."""
    if view.offset != 0 or len(view.shape) > 2 or view.index:
        return None
    m, n = target
    v = view.broadcast((m, n))
    st = v.norm_strides()
    wants = (
        ("scalar", (0, 0)),
        ("col", (0, 1 if n > 1 else 0)),
        ("row", (1 if m > 1 else 0, 0)),
        ("full", (n if m > 1 else 0, 1 if n > 1 else 0)),
    )
    for cls, want in wants:
        if st == want:
            return cls
    return None


# --- reduce: one work-item per row (kept index), loops over the reduced axes ----------------
def _reduce(lw, node, body, outer, outs) -> None:
    from .lower import LOCAL, VLaunch, kernel_source, round_up

    full, axes = node.attrs["space"]
    keep = None
    if lw.device_kind == "cpu":  # first pass: which element values later loops read again
        probe = RowKernel(body, tuple(full), tuple(axes), _loader(lw, outer)[0], keep=None)
        probe.render()
        keep = probe.reread
    load, params, args = _loader(lw, outer)
    rk = RowKernel(body, tuple(full), tuple(axes), load, keep=keep or set())
    text = rk.render()
    outp = [(f"out{k}", o.dtype, True) for k, o in enumerate(body.outputs)]
    src = (
        f"{common.PREAMBLE}\n__kernel void KNAME({common.kernel_params(outp + params)}) "
        "{\n" + text + "}\n"
    )
    total = LOCAL if rk.single else round_up(rk.rows, LOCAL)
    nbytes = sum(lw.vbufs[a[1]].nbytes for a in args) + sum(lw.vbufs[v].nbytes for v in outs)
    lw.launches.append(
        VLaunch(
            kernel_source("fused_reduce", src),
            [("buf", v) for v in outs] + args,
            (total,),
            (LOCAL,),
            _label(lw, node),
            rk.size,
            nbytes,
        )
    )


class RowKernel:
    """Renders a reduce group: per row, reduction loops, then element and row stores."""

    def __init__(
        self, body, full: tuple[int, ...], axes: tuple[int, ...], load, keep: set[int] | None
    ) -> None:
        """``keep``: element values to store for later loops (None: every one, to find out
        which are read again, recorded in ``reread``)."""
        self.body, self.full, self.axes, self.load = body, full, axes, load
        self.kept = [a for a in range(len(full)) if a not in axes]
        self.k0 = tuple(full[a] for a in self.kept)
        self.rows = 1
        for s in self.k0:
            self.rows *= s
        self.size = self.rows
        for a in axes:
            self.size *= full[a]
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
        span = 1
        for a in axes:
            span *= full[a]
        self.span = span
        self.keep = keep if 0 < span <= ROW_CACHE else set()
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

    # -- levels ---------------------------------------------------------------------------
    def _free_level(self, shape, frame) -> str:
        return free_level(self.full, self.axes, shape, frame)

    def _level(self, n: Node) -> str:
        kind = OPS[n.op].kind
        if n.op == "one_hot":
            return "elem"
        if kind == REDUCE:
            return "row" if n.inputs[0].shape == self.full else "total"
        if kind == MOVEMENT:
            return self.level[id(n.inputs[0])]
        lv = [
            self.level[id(i)] if id(i) in self.level else self._free_level(i.shape, n.shape)
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

    # -- emission -------------------------------------------------------------------------
    def var(self, dtype: str, expr: str) -> str:
        name = f"v{self.n}"
        self.n += 1
        self.lines.append(f"{self.ind}const {common.CTYPE[dtype]} {name} = {expr};")
        return name

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
            self.rv[id(n)] = self.var(n.dtype, c_template(n, args))
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
        if id(n) not in env and id(n) in self.cached:
            self.reread.add(id(n))
            return f"{self.cached[id(n)]}[{self.ridx}]"
        if id(n) not in env:
            if n.op == "one_hot":
                expr = self.one_hot(n)
            else:
                expr = c_template(n, [self.operand(i, n, "elem", env) for i in n.inputs])
            env[id(n)] = v = self.var(n.dtype, expr)
            if self.keep is None or id(n) in self.keep:
                self.lines.append(f"{self.ind}{v}s[{self.ridx}] = {v};")
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
        """Open the loops over the reduced axes, emit ``targets`` per element, call ``each``."""
        deps: list[Node] = []
        seen: set[int] = set()
        for t in targets:
            if self.level.get(id(t), "elem") == "elem":
                self.row_deps(t, deps, seen)
            else:
                deps.append(t)
        for d in deps:
            self.row(d)
        outer_ind, start = self.ind, len(self.lines)
        for a in self.axes:
            self.lines.append(f"{self.ind}for (int r{a} = 0; r{a} < {self.full[a]}; ++r{a}) {{")
            self.ind += "  "
        env: dict[int, str] = {}
        self.stored: list[tuple[Node, str]] = []
        each([self.elem(t, env) for t in targets])
        while self.ind != outer_ind:
            self.ind = self.ind[:-2]
            self.lines.append(f"{self.ind}}}")
        decls = [f"{outer_ind}{common.CTYPE[n.dtype]} {a}[{self.span}];" for n, a in self.stored]
        self.lines[start:start] = decls
        self.cached.update((id(n), a) for n, a in self.stored)

    def reduce_loop(self, r: Node) -> None:
        acc = f"acc{self.n}"
        self.n += 1
        if r.op in ("argmax", "argmin"):
            # TF.js's scan: the first strict extreme wins; NaN never compares, so it is
            # skipped unless it comes first (then index 0 stays).
            (ax,) = self.axes
            best, cmp = f"best{self.n - 1}", ">" if r.op == "argmax" else "<"
            self.lines.append(f"{self.ind}{common.CTYPE[r.inputs[0].dtype]} {best} = 0;")
            self.lines.append(f"{self.ind}int {acc} = 0;")

            def each(v: list[str]) -> None:
                self.lines.append(
                    f"{self.ind}if (r{ax} == 0 || {v[0]} {cmp} {best}) "
                    f"{{ {best} = {v[0]}; {acc} = r{ax}; }}"
                )

            self.loop([r.inputs[0]], each)
        else:
            self.lines.append(f"{self.ind}{common.CTYPE[r.dtype]} {acc} = {_init(r)};")
            self.loop(
                [r.inputs[0]], lambda v: self.lines.append(f"{self.ind}{_combine(r, acc, v[0])}")
            )
        self.rv[id(r)] = acc

    def render(self) -> str:
        from .lower import LOCAL

        out = self.lines
        outs = self.body.outputs
        head = []
        totals = [
            n
            for n in self.body.nodes
            if self.level.get(id(n)) == "total" and OPS[n.op].kind == REDUCE
        ]
        if self.single:
            # One work-group: its items take rows in turn and keep partial totals, which item
            # 0 folds in a fixed order (deterministic) after a barrier.
            head.append("  const int lid = get_local_id(0);")  # the only work-group
            for j, t in enumerate(totals):
                self.rv[id(t)] = f"tacc{j}"
                head.append(f"  {common.CTYPE[t.dtype]} tacc{j} = {_init(t)};")
            head.append(f"  for (int rid = lid; rid < {self.rows}; rid += {LOCAL}) {{")
            self.ind = "    "
        else:
            head.append("  const int gid = get_global_id(0);")
            head.append(f"  if (gid >= {self.rows}) return;")
            head.append("  const int rid = gid;")
        inner = 1
        for a, s in reversed(list(zip(self.kept, self.k0, strict=True))):
            e = "rid" if inner == 1 else f"rid / {inner}"
            if a != self.kept[0]:
                e = f"({e}) % {s}"
            out.append(f"{self.ind}const int k{a} = {e};")
            inner *= s
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
            self.lines.append(f"{self.ind}out{k}[{at}] = {self.row(outs[k])};")
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
        if self.single:
            for j, t in enumerate(totals):
                self.lines.append(f"{self.ind}{_combine(t, f'tacc{j}', self.row(t.inputs[0]))}")
            self.ind = "  "
            self.lines.append("  }")
            for j, t in enumerate(totals):
                ct = common.CTYPE[t.dtype]
                self.lines.append(f"  __local {ct} part{j}[{LOCAL}];")
                self.lines.append(f"  part{j}[lid] = tacc{j};")
            self.lines.append("  barrier(CLK_LOCAL_MEM_FENCE);")
            self.lines.append("  if (lid != 0) return;")
            for j, t in enumerate(totals):
                self.lines.append(f"  tacc{j} = {_init(t)};")
                fold = _combine(t, f"tacc{j}", f"part{j}[j]")
                self.lines.append(f"  for (int j = 0; j < {LOCAL}; ++j) {fold}")
            for n in self.body.nodes:
                if self.level.get(id(n)) == "total" and id(n) not in self.rv:
                    self.row(n)
            for k, o in enumerate(outs):
                if self.level.get(id(o)) == "total":
                    self.lines.append(f"  out{k}[0] = {self.rv[id(o)]};")
        return "\n".join(head + out) + "\n"


def _init(r: Node) -> str:
    from .lower import OP_INIT

    return (
        OP_INIT[r.op]
        if r.dtype == "float32"
        else {"-INFINITY": "INT_MIN", "INFINITY": "INT_MAX"}.get(OP_INIT[r.op], OP_INIT[r.op])
    )


def _combine(r: Node, acc: str, v: str) -> str:
    if r.op == "sum":
        return f"{acc} += {v};"
    if r.op == "prod":
        return f"{acc} *= {v};"
    f = r.op + ("_nan" if r.dtype == "float32" else "")
    return f"{acc} = {f}({acc}, {v});"
