"""Lowering of fused groups: one kernel per body (pointwise, dense GEMM epilogue, row reduce)."""

from __future__ import annotations

from ..kernels import common
from ..kernels.gemm import GemmEpilogue
from .codegen import PointwiseBody, c_template
from .ir import IRError, Node, line_of
from .row_kernel import RowKernel
from .view import View


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
        start += -(-size // LOCAL)  # each segment starts on a work-group boundary
    total = sum(size for _, size, _ in blocks)
    outp = [(f"out{k}", o.dtype, True) for k, o in enumerate(body.outputs)]
    if len(blocks) == 1:
        src = common.render_pointwise("KNAME", outp + params, total, "\n".join(blocks[0][2]) + "\n")
        global_size = round_up(total, LOCAL)
    else:
        # Segments are chosen by work-group, so the branch is uniform within a group: pocl
        # then vectorises each segment's work-item loop (a branch on the global id made the
        # multi-tensor SGD/momentum update of the guide model 12x slower: 170 vs 14 us).
        text = ["  const int grp = get_group_id(0);"]
        for j, (g0, size, lines) in enumerate(blocks):
            text.append(f"  {'else ' if j else ''}if (grp < {g0 + -(-size // LOCAL)}) {{")
            text.append(f"    const int gid = (grp - {g0}) * {LOCAL} + (int)get_local_id(0);")
            text.append(f"    if (gid < {size}) {{")
            text += ["    " + ln for ln in lines]
            text.append("    }")
            text.append("  }")
        src = (
            f"{common.PREAMBLE}\n__kernel void KNAME({common.kernel_params(outp + params)}) "
            "{\n" + "\n".join(text) + "\n}\n"
        )
        global_size = start * LOCAL
    nbytes = sum(lw.vbufs[a[1]].nbytes for a in args) + sum(lw.vbufs[v].nbytes for v in outs)
    lw.launches.append(
        VLaunch(
            kernel_source("fused_pointwise", src),
            [("buf", v) for v in outs] + args,
            (global_size,),
            (LOCAL,),
            _label(lw, node),
            total,
            nbytes,
        )
    )


# --- dense: GEMM with the epilogue expression and the column sum of B ------------------------
def _dense(lw, node, body, outer, outs) -> None:
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
    m, n = mm.shape
    main_extras: list = []
    main_expr = _epilogue_expr(lw, outer, body.outputs[main_k[0]], mm, (m, n), main_extras)
    cs_epi, cs_extras = None, []
    if cs_k:
        cs_expr = _epilogue_expr(lw, outer, body.outputs[cs_k[0]], sums[0], (1, n), cs_extras)
        cs_epi = GemmEpilogue(tuple(c for c, _ in cs_extras), cs_expr)
    epi = GemmEpilogue(tuple(c for c, _ in main_extras), main_expr)
    named = {"C": ("buf", outs[main_k[0]])}
    named.update({f"E{i}": ("buf", v) for i, (_, v) in enumerate(main_extras)})
    if cs_k:
        named["S"] = ("buf", outs[cs_k[0]])
        named.update({f"F{i}": ("buf", v) for i, (_, v) in enumerate(cs_extras)})
    a, b = (outer[id(x)] for x in mm.inputs)
    lw.emit_gemm(a, b, mm, named, _label(lw, node), epilogue=epi, colsum=cs_epi)


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


# --- reduce: rows of the group's space, loops over the reduced axes (row_kernel.py) ---------
def _reduce(lw, node, body, outer, outs) -> None:
    from .lower import VLaunch, kernel_source

    full, axes = node.attrs["space"]
    cpu = lw.device_kind == "cpu"
    keep = None
    if cpu:  # first pass: which element values later loops read again
        loader = _loader(lw, outer)[0]
        probe = RowKernel(body, tuple(full), tuple(axes), loader, keep=None, cpu=True)
        probe.render()
        keep = probe.reread
    load, params, args = _loader(lw, outer)
    rk = RowKernel(body, tuple(full), tuple(axes), load, keep=keep or set(), cpu=cpu)
    text = rk.render()
    outp = [(f"out{k}", o.dtype, True) for k, o in enumerate(body.outputs)]
    src = (
        f"{common.CPU_PREAMBLE if cpu else common.PREAMBLE}\n"
        f"__kernel void KNAME({common.kernel_params(outp + params)}) {{\n{text}}}\n"
    )
    gsize, lsize = rk.geometry()
    nbytes = sum(lw.vbufs[a[1]].nbytes for a in args) + sum(lw.vbufs[v].nbytes for v in outs)
    lw.launches.append(
        VLaunch(
            kernel_source("fused_reduce", src),
            [("buf", v) for v in outs] + args,
            gsize,
            lsize,
            _label(lw, node),
            rk.size,
            nbytes,
        )
    )
