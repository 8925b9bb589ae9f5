"""The compiler pipeline: verify -> passes -> lower -> plan memory, with per-stage dumps."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from . import memory
from .executable import Executable
from .ir import Graph
from .lower import Lowerer, to_launches
from .passes.decompose import decompose
from .passes.fuse_dense import fuse_dense
from .passes.fuse_pointwise import fuse_pointwise
from .passes.fuse_reduce import fuse_reduce
from .passes.simplify import simplify

# Passes run in this order: clean up, expose reductions, then fuse by kind (GEMM epilogues
# first, so bias adds and updates ride on matmuls; then reductions; then what is left).
PASSES: list[Callable[[Graph], Graph]] = [
    decompose,
    simplify,
    fuse_dense,
    fuse_reduce,
    fuse_pointwise,
]


def debug_level() -> int:
    try:
        return int(os.environ.get("CLFLOW_DEBUG", "0") or 0)
    except ValueError:
        return 0


def compile_graph(
    graph: Graph, device_kind: str = "cpu", passes=None, keep_stages: bool = False
) -> Executable:
    """Compile ``graph`` into an Executable for a device of ``device_kind`` ('cpu' or 'gpu')."""
    graph.verify()
    level = debug_level()
    stages = [("traced", graph.dump())] if keep_stages or level else []
    stage_graphs = [("traced", graph)] if keep_stages else []  # for the dump tool's pictures
    for p in PASSES if passes is None else passes:
        graph = p(graph)
        graph.verify()
        if stages:
            stages.append((p.__name__, graph.dump()))
        if stage_graphs:
            stage_graphs.append((p.__name__, graph))
    lw = Lowerer(graph, device_kind)
    lw.run()
    slot_of, slots, stats = memory.plan(lw.vbufs, lw.launches, lw.outputs)
    kernels, launches = to_launches(lw, slot_of)
    exe = Executable(
        kernels,
        launches,
        slots,
        [slot_of[v] for v in _inputs_in_order(lw)],
        [slot_of[v] for v in lw.outputs],
    )
    exe.info.update(stats)
    exe.info["stages"] = stages
    exe.info["stage_graphs"] = stage_graphs
    exe.info["graph"] = graph
    if level:
        for name, text in stages:
            print(f"# --- {name} ---\n{text}", file=sys.stderr)
        print(f"# {len(launches)} launches, peak {stats['peak_bytes']} bytes", file=sys.stderr)
        for ln in launches:
            print(f"#   {kernels[ln.kernel].name} {ln.global_size} {ln.label}", file=sys.stderr)
            if level >= 2:
                print(kernels[ln.kernel].source, file=sys.stderr)
    return exe


def _inputs_in_order(lw: Lowerer) -> list[int]:
    ins = [(b.index, v) for v, b in enumerate(lw.vbufs) if b.role == "input"]
    return [v for _, v in sorted(ins)]
