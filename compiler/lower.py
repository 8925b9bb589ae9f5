"""Lowering: a graph becomes an Executable (kernel launches over buffer slots).

Every compute node (or fused group, once the fusion pass made one) becomes one kernel; movement
ops become strided views that the consuming kernel reads in place. Buffers are virtual until
``memory.plan`` maps them onto slots by liveness.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..kernels import common
from ..kernels import reduce as kreduce
from ..kernels import softmax as ksoftmax
from .codegen import PointwiseBody, view_index
from .executable import BufArg, KernelSource, Launch, ScalarArg
from .fusion import gather_is_view
from .ir import Graph, IRError, Node, line_of
from .ops import ELEMENTWISE, INJECTIVE, MATMUL, MOVEMENT, OPAQUE, REDUCE
from .view import View, apply_movement, canonical_strides

LOCAL = 64  # one local size for all pointwise kernels: pocl re-specialises per local size
ITEMSIZE = {"float32": 4, "int32": 4, "bool": 1}


@dataclass
class VBuf:
    """A virtual buffer: one materialised value before memory planning."""

    nbytes: int
    dtype: str
    shape: tuple[int, ...]
    role: str  # input | output | temp
    index: int = -1  # graph input / output position


@dataclass
class VLaunch:
    kernel: KernelSource
    args: list  # ("buf", vbuf) | ScalarArg
    global_size: tuple[int, ...]
    local_size: tuple[int, ...] | None
    label: str
    flops: int = 0
    nbytes: int = 0


def kernel_source(stem: str, source: str) -> KernelSource:
    """Name a kernel by its op and a hash of its text, so equal kernels share one build."""
    h = hashlib.sha1(source.encode()).hexdigest()[:8]
    name = f"{stem}_{h}"
    return KernelSource(name, source.replace("KNAME", name))


def round_up(n: int, m: int) -> int:
    return max(m, (n + m - 1) // m * m)


class Lowerer:
    """Walks a graph in order and emits launches; ``loc`` says where each value lives."""

    def __init__(self, graph: Graph, device_kind: str = "cpu") -> None:
        self.graph = graph
        self.device_kind = device_kind
        self.vbufs: list[VBuf] = []
        self.launches: list[VLaunch] = []
        self.loc: dict[int, tuple[int | Node, View]] = {}  # node -> (vbuf or const node, view)
        self.names: dict[int, str] = {}

    # -- buffers and views ----------------------------------------------------------------
    def new_vbuf(self, node: Node, role: str = "temp") -> int:
        # Exact sizes: an empty tensor's upload has 0 bytes and the runtime checks input sizes.
        self.vbufs.append(VBuf(node.size * ITEMSIZE[node.dtype], node.dtype, node.shape, role))
        return len(self.vbufs) - 1

    def plain(self, node: Node) -> int:
        """The vbuf holding ``node`` contiguously from its start; copies a view if needed."""
        base, view = self.loc[id(node)]
        if isinstance(base, int) and view.is_plain and view.shape == node.shape:
            return base
        out = self.new_vbuf(node)
        self.emit_pointwise(node, out, copy=True)
        self.loc[id(node)] = (out, View.contiguous(node.shape))
        return out

    # -- the walk -------------------------------------------------------------------------
    def run(self) -> None:
        for k, x in enumerate(self.graph.inputs):
            vb = self.new_vbuf(x, "input")
            self.vbufs[vb].index = k
            self.loc[id(x)] = (vb, View.contiguous(x.shape))
        for node in self.graph.nodes:
            self.names.setdefault(id(node), str(len(self.names)))
            if id(node) in self.loc:
                continue
            kind = _kind(node)
            if node.op == "const":
                self.loc[id(node)] = (node, View.contiguous(()))
            elif node.op == "fused":
                from .fused_lower import lower_fused

                lower_fused(self, node)
            elif kind == MOVEMENT:
                self.lower_movement(node)
            elif node.op == "gather" and self.lower_gather(node):
                pass  # an indexed view: its readers load through the indices
            elif kind in (ELEMENTWISE, INJECTIVE):
                out = self.new_vbuf(node)
                self.emit_pointwise(node, out)
                self.loc[id(node)] = (out, View.contiguous(node.shape))
            elif kind == REDUCE:
                self.emit_reduce(node)
            elif kind == MATMUL:
                self.emit_matmul(node)
            elif kind == OPAQUE and node.op in ("softmax", "log_softmax"):
                self.emit_softmax(node)
            else:
                raise IRError(f"cannot lower {line_of(node, self.names)}")
        self.outputs = []
        for k, o in enumerate(self.graph.outputs):
            vb = self.plain(o)
            if self.vbufs[vb].role == "temp":
                self.vbufs[vb].role = "output"
                self.vbufs[vb].index = k
            self.outputs.append(vb)

    def lower_movement(self, node: Node) -> None:
        (x,) = node.inputs
        base, view = self.loc[id(x)]
        new = apply_movement(view, node.op, node.attrs, node.shape)
        if new is None:  # a reshape of a non-contiguous view: materialise the input first
            base = self.plain(x)
            new = apply_movement(View.contiguous(x.shape), node.op, node.attrs, node.shape)
        self.loc[id(node)] = (base, new)

    def lower_gather(self, node: Node) -> bool:
        """Place ``gather(x, idx)`` with a 1-D index as an indexed view of x (no kernel)."""
        x, idx = node.inputs
        xb, xv = self.loc[id(x)]
        ib, iv = self.loc[id(idx)]
        ax = node.attrs["axis"]
        if not gather_is_view(node) or isinstance(xb, Node) or isinstance(ib, Node):
            return False
        if iv.index or xv.indexed(ax) is not None:
            return False
        self.loc[id(node)] = (xb, xv.gather(ax, ib, iv))
        return True

    # -- kernels --------------------------------------------------------------------------
    def label(self, node: Node) -> str:
        return line_of(node, self.names)

    def _inputs_collector(self):
        """A load callback for PointwiseBody that numbers the buffers a kernel reads."""
        params: list[tuple[str, str, bool]] = []
        args: list = []
        seen: dict[int, str] = {}

        def name(base: int) -> str:
            if base not in seen:
                seen[base] = f"in{len(seen)}"
                params.append((seen[base], self.vbufs[base].dtype, False))
                args.append(("buf", base))
            return seen[base]

        def load(x: Node, comps: list[str]) -> str:
            base, view = self.loc[id(x)]
            if isinstance(base, Node):  # a (possibly broadcast) constant
                return common.c_literal(base.attrs["value"], base.dtype)
            at = view_index(view, comps, lambda ix, i: f"{name(ix.base)}[{i}]")
            return f"{name(base)}[{at}]"

        return load, params, args

    def emit_pointwise(self, node: Node, out: int, copy: bool = False) -> None:
        load, params, args = self._inputs_collector()
        body = PointwiseBody(node.shape, load)
        if copy:
            v = load(node, body.comps_for(node.shape))
            stem = "copy"
        else:
            v = body.value(node, {})
            stem = node.op
        body.lines.append(f"  out0[gid] = {v};")
        total = node.size
        src = common.render_pointwise(
            "KNAME", [("out0", node.dtype, True)] + params, total, "\n".join(body.lines) + "\n"
        )
        nbytes = sum(self.vbufs[a[1]].nbytes for a in args) + self.vbufs[out].nbytes
        self.launches.append(
            VLaunch(
                kernel_source(stem, src),
                [("buf", out)] + args,
                (round_up(total, LOCAL),),
                (LOCAL,),
                ("copy " if copy else "") + self.label(node),
                total,
                nbytes,
            )
        )

    def emit_reduce(self, node: Node) -> None:
        (x,) = node.inputs
        load, params, args = self._inputs_collector()
        base, view = self.loc[id(x)]
        if isinstance(base, Node) or view.index:
            base = self.plain(x)
            view = View.contiguous(x.shape)
        out = self.new_vbuf(node)
        axes = node.attrs.get("axes", (node.attrs.get("axis"),))
        src, total = kreduce.render_reduce(
            node.op, x.dtype, node.dtype, view, axes, OP_INIT.get(node.op, "0")
        )
        self.launches.append(
            VLaunch(
                kernel_source(node.op, src),
                [("buf", out), ("buf", base)],
                (round_up(total, LOCAL),),
                (LOCAL,),
                self.label(node),
                x.size,
                self.vbufs[base].nbytes + self.vbufs[out].nbytes,
            )
        )
        self.loc[id(node)] = (out, View.contiguous(node.shape))

    def emit_softmax(self, node: Node) -> None:
        (x,) = node.inputs
        xb = self.plain(x)
        out = self.new_vbuf(node)
        d = x.shape[-1]
        rows = x.size // d if d else 0
        src = ksoftmax.render_softmax(rows, d, log=node.op == "log_softmax")
        self.launches.append(
            VLaunch(
                kernel_source(node.op, src),
                [("buf", out), ("buf", xb)],
                (round_up(max(rows, 1), LOCAL),),
                (LOCAL,),
                self.label(node),
                4 * x.size,
                2 * self.vbufs[xb].nbytes,
            )
        )
        self.loc[id(node)] = (out, View.contiguous(node.shape))

    def matmul_operand(self, x: Node) -> tuple[int, bool]:
        """A buffer for a matmul operand and whether it is stored transposed (read in place)."""
        base, view = self.loc[id(x)]
        if isinstance(base, int):
            if view.is_plain:
                return base, False
            flipped = View.contiguous((x.shape[1], x.shape[0])).permute((1, 0))
            same = view.offset == 0 and not view.index
            if same and view.norm_strides() == flipped.norm_strides():
                return base, True
        return self.plain(x), False

    def gathered_a(self, x: Node) -> tuple[int, bool, int, int] | None:
        """(base, stored transposed, index vbuf, base rows) when ``x`` is a row-gathered
        matrix a GEMM can read as A through its index (plan_gemm's ``gather_a``), else None."""
        base, view = self.loc[id(x)]
        if not isinstance(base, int) or len(view.index) != 1:
            return None
        if len(view.shape) != 2 or view.offset:
            return None
        (ix,) = view.index
        cols = view.shape[1 - ix.axis]
        want = canonical_strides((ix.bound, cols))
        got = (view.strides[ix.axis], view.strides[1 - ix.axis])
        if not ix.view.is_plain or got != want:
            return None
        return base, ix.axis == 1, ix.base, ix.bound

    def a_operand(self, x: Node) -> tuple[int, bool, dict, dict]:
        """A matmul's A operand: (vbuf, stored transposed, plan_gemm options, extra args)."""
        g = self.gathered_a(x)
        if g is None:
            return *self.matmul_operand(x), {}, {}
        base, trans, idx, rows = g
        return base, trans, {"gather_a": rows}, {"IA": ("buf", idx)}

    def emit_matmul(self, node: Node) -> None:
        out = self.new_vbuf(node)
        a, b = node.inputs
        self.emit_gemm(a, b, node, {"C": ("buf", out)}, self.label(node))
        self.loc[id(node)] = (out, View.contiguous(node.shape))

    def emit_gemm(self, a: Node, b: Node, mm: Node, named: dict, label: str, **options) -> None:
        """Plan the GEMM of matmul ``mm`` whose operands are located at ``a`` and ``b`` and
        append its launches; ``named`` binds C and any epilogue buffers, ``options`` go to
        plan_gemm (epilogue, colsum)."""
        from ..kernels.gemm import plan_gemm

        ab, ta, opts, gargs = self.a_operand(a)
        bb, tb = self.matmul_operand(b)
        ta ^= mm.attrs["transpose_a"]
        tb ^= mm.attrs["transpose_b"]
        m, n = mm.shape
        first = mm.inputs[0]
        k = first.shape[0] if mm.attrs["transpose_a"] else first.shape[1]
        plan = plan_gemm(
            m, n, k, trans_a=ta, trans_b=tb, device_kind=self.device_kind, **opts, **options
        )
        named = {
            "A": ("buf", ab),
            "B": ("buf", bb),
            "M": ScalarArg("int32", m),
            "N": ScalarArg("int32", n),
            "K": ScalarArg("int32", k),
            **gargs,
            **named,
        }
        for name, nbytes in plan.temps.items():
            self.vbufs.append(VBuf(nbytes, "float32", (nbytes // 4,), "temp"))
            named[name] = ("buf", len(self.vbufs) - 1)
        for gl in plan.launches:
            self.launches.append(
                VLaunch(
                    kernel_source(gl.name, gl.source.replace(gl.name, "KNAME")),
                    [named[x] for x in gl.args],
                    tuple(gl.global_size),
                    tuple(gl.local_size) if gl.local_size else None,
                    label,
                    plan.flops if gl is plan.launches[-1] else 0,
                    4 * (m * k + k * n + m * n),
                )
            )


OP_INIT = {"sum": "0", "prod": "1", "max": "-INFINITY", "min": "INFINITY", "any": "0", "all": "1"}


def _kind(node: Node) -> str:
    from .ops import OPS

    return OPS[node.op].kind


def to_launches(lw: Lowerer, slot_of: list[int]) -> list[Launch]:
    """Replace virtual buffers by planned slots; kernels are deduplicated by source."""
    kernels: list[KernelSource] = []
    index: dict[str, int] = {}
    out = []
    for vl in lw.launches:
        if vl.kernel.source not in index:
            index[vl.kernel.source] = len(kernels)
            kernels.append(vl.kernel)
        args = tuple(BufArg(slot_of[a[1]]) if isinstance(a, tuple) else a for a in vl.args)
        out.append(
            Launch(
                index[vl.kernel.source],
                args,
                vl.global_size,
                vl.local_size,
                vl.label,
                vl.flops,
                vl.nbytes,
            )
        )
    return kernels, out
