"""Realising lazy tensors: structural keys, the executable cache, and running on the device.

A value is computed only when asked for. The pending subgraph is keyed by its structure (ops,
attributes, shapes, dtypes, which leaves feed it); a cached runner replays it, so the same work
twice compiles and builds nothing the second time.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from .compiler.ir import Graph, Node, toposort
from .compiler.ops import NP_DTYPE
from .compiler.pipeline import compile_graph, debug_level

_device = None
# Compiled runners by structural key, least recently used first. Bounded, because Python
# scalars are baked into kernels: a loop over `x * i` compiles one executable per value.
_cache: OrderedDict = OrderedDict()
CACHE_MAX = 256
stats = {"compiles": 0, "runs": 0, "cache_hits": 0}
# While > 0 (inside minimize/grad tracing), realised nodes keep their inputs so that
# gradients can still flow through values the user read inside the traced function.
tape_depth = 0
_dump_dir = os.environ.get("CLFLOW_DUMP")


def device():
    """The OpenCL device all tensors live on (chosen once: CLFLOW_DEVICE, PYOPENCL_CTX, ...)."""
    global _device
    if _device is None:
        from .runtime import get_device

        _device = get_device()
    from .tune import apply_cached

    apply_cached(_device)  # GEMM parameters stored by `clflow tune` (a no-op once applied)
    return _device


def set_device(spec: str | None) -> None:
    """Switch the default device (only before any tensor was created on the current one)."""
    global _device
    from .runtime import get_device

    _device = get_device(spec)
    _cache.clear()


def device_kind() -> str:
    return "gpu" if device().kind == "gpu" else "cpu"


def structure(outputs: Sequence[Node], stop: Callable[[Node], bool], lift: bool = False) -> tuple:
    """(key, leaves): the structural signature of the graph reaching ``outputs``.

    With ``lift``, float scalar constants are leaves too (their value is not in the key), so
    ``x * i`` in a loop compiles once rather than once per value of ``i``.
    """
    order = toposort(outputs, stop)
    index: dict[int, int] = {}
    sig = []
    leaves: list[Node] = []
    for n in order:
        index[id(n)] = len(sig)
        if lift and n.op == "const" and n.shape == () and n.dtype == "float32":
            sig.append(("S", n.dtype))
            leaves.append(n)
        elif n.op == "const":
            sig.append(("C", n.attrs["value"], n.dtype))
        elif stop(n):
            sig.append(("L", n.shape, n.dtype))
            leaves.append(n)
        else:
            sig.append(
                (n.op, n.attr_key(), n.shape, n.dtype, tuple(index[id(i)] for i in n.inputs))
            )
    return (tuple(sig), tuple(index[id(o)] for o in outputs)), leaves


def is_leaf(n: Node) -> bool:
    return n.data is not None


def build_graph(outputs: Sequence[Node], leaves: Sequence[Node], stop, name="graph") -> Graph:
    """A fresh closed Graph copying the lazy nodes; leaves become 'input' nodes in order."""
    mapping: dict[int, Node] = {}
    inputs = []
    for k, leaf in enumerate(leaves):
        role = "param" if leaf.var is not None else "input"
        x = Node("input", (), {"index": k, "role": role}, leaf.shape, leaf.dtype)
        x.name = leaf.name or (leaf.var.name if leaf.var is not None else None)
        mapping[id(leaf)] = x
        inputs.append(x)
    for n in toposort(outputs, stop):
        if id(n) in mapping:
            continue
        if n.op == "const":
            mapping[id(n)] = n
            continue
        mapping[id(n)] = Node(n.op, [mapping[id(i)] for i in n.inputs], n.attrs, n.shape, n.dtype)
    return Graph(inputs, [mapping[id(o)] for o in outputs], name)


def get_runner(key, make_graph: Callable[[], Graph]):
    """The cached runner for ``key``, compiling ``make_graph()`` on a miss."""
    runner = lookup(key)
    if runner is None:
        graph = make_graph()
        exe = compile_graph(graph, device_kind(), keep_stages=_dump_dir is not None)
        exe.key = key
        runner = device().prepare(exe)
        runner.executable = exe
        if debug_level() >= 2:  # per-kernel times of the first run, on stderr
            from .dump import debug_profile

            debug_profile(runner)
        _cache[key] = runner
        if len(_cache) > CACHE_MAX:
            _cache.popitem(last=False)
        stats["compiles"] += 1
        if _dump_dir:
            from .dump import write_dump

            write_dump(exe, _dump_dir)
    return runner


def lookup(key):
    """The cached runner for ``key`` (marked as recently used), or None."""
    runner = _cache.get(key)
    if runner is not None:
        _cache.move_to_end(key)
        stats["cache_hits"] += 1
    return runner


def realize(nodes: Sequence[Node]) -> None:
    """Compute every unrealised node in ``nodes`` with one executable."""
    todo = []
    seen = set()
    for n in nodes:
        if n.data is None and n.op != "const" and id(n) not in seen:
            seen.add(id(n))
            todo.append(n)
    consts = [n for n in nodes if n.data is None and n.op == "const"]
    for c in consts:  # a bare scalar constant: upload it
        c.host = np.array(c.attrs["value"], dtype=NP_DTYPE[c.dtype])
        c.data = device().upload(c.host)
    if not todo:
        return
    key, leaves = structure(todo, is_leaf, lift=True)
    runner = get_runner(key, lambda: build_graph(todo, leaves, is_leaf))
    outs = runner.run([leaf.data if leaf.op != "const" else _scalar(leaf) for leaf in leaves])
    stats["runs"] += 1
    for n, buf in zip(todo, outs, strict=True):
        n.data = buf
        if not tape_depth:
            n.inputs = ()  # drop the history: the value is what matters now


_scalars: OrderedDict = OrderedDict()  # (value, dtype) -> device buffer, least recent first


def _scalar(c: Node):
    """A device buffer holding constant ``c`` (uploaded once per distinct value)."""
    host = np.array(c.attrs["value"], NP_DTYPE[c.dtype])
    key = (host.tobytes(), c.dtype)  # by bits: -0.0 is not 0.0, and NaN finds itself
    buf = _scalars.get(key)
    if buf is None:
        buf = _scalars[key] = device().upload(host)
        if len(_scalars) > CACHE_MAX:
            _scalars.popitem(last=False)
    else:
        _scalars.move_to_end(key)
    return buf


def cache_info() -> dict:
    return {"executables": len(_cache), **stats}


def clear_cache() -> None:
    _cache.clear()


def debug(msg: str) -> None:
    if os.environ.get("CLFLOW_DEBUG"):
        print(msg, file=sys.stderr)
