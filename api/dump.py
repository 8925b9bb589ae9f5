"""The graph dump / visualize tool: every stage of every executable as text, DOT, SVG, JSON, HTML.

Stages of one executable: ``forward`` (the loss's traced graph) and ``autodiff`` (the whole train
step) for a train step, else ``traced``; then the graph after each compiler pass; then
``kernels`` (the final graph with its launches and OpenCL sources). ``collect`` captures every
executable compiled while a target runs (a fresh executable cache, so nothing is skipped as
already compiled); ``CLFLOW_DUMP=DIR`` writes the same files for each compile of a normal run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import engine
from .compiler.dot import body_of, fused_groups, to_dot, to_networkx
from .compiler.executable import Executable
from .compiler.ir import Graph, toposort

FORMATS = ("text", "dot", "svg", "json", "html")
CAPTURE = "<clflow-capture>"  # engine._dump_dir while capturing: collect, write nothing
INSTALL_GRAPHVIZ = (
    "install Graphviz for SVG pictures (apt-get install graphviz, brew install "
    "graphviz, conda install graphviz or https://graphviz.org/download)"
)
_sinks: list[list[Executable]] = []
_LABEL = re.compile(r"^%(\d+):")


class DumpError(Exception):
    """Bad input for the dump tool; the message names what was wrong and what was expected."""


class NoGraphviz(DumpError):
    """SVG was asked for but Graphviz's ``dot`` is not installed; ``dot_text`` holds the DOT."""

    def __init__(self, dot_text: str) -> None:
        super().__init__(f"Graphviz 'dot' was not found: {INSTALL_GRAPHVIZ}")
        self.dot_text = dot_text


@dataclass
class Stage:
    name: str
    text: str
    graph: Graph | None
    kernels: dict[int, list[str]] | None = None  # node position -> kernel names (final graph)


class Dumped:
    """One compiled executable, its stages and, after ``profile``, seconds per launch."""

    def __init__(self, index: int, exe: Executable, runner: Any = None) -> None:
        self.index = index
        self.exe = exe
        self.runner = runner
        self.times: list[float | None] | None = None
        graph = exe.info.get("graph")
        self.name = graph.name if graph is not None else "graph"
        self.launch_nodes = _launch_nodes(exe)
        self.launch_groups = _launch_groups(exe, self.launch_nodes)
        self.stages = _stages(self)

    def kernel_names(self) -> dict[int, list[str]]:
        """Final-graph node position -> names of the kernels computing it."""
        out: dict[int, list[str]] = {}
        for ln, ks in zip(self.exe.launches, self.launch_groups, strict=True):
            name = self.exe.kernels[ln.kernel].name
            for k in ks:
                if name not in out.setdefault(k, []):
                    out[k].append(name)
        return out

    def launch_rows(self) -> list[dict]:
        """One dict per launch: kernel, geometry, label, node (and all its group's nodes), flops,
        bytes and timings."""
        rows = []
        for i, ln in enumerate(self.exe.launches):
            t = self.times[i] if self.times else None
            rows.append(
                {
                    "index": i,
                    "kernel": ln.kernel,
                    "kernel_name": self.exe.kernels[ln.kernel].name,
                    "global_size": list(ln.global_size),
                    "local_size": None if ln.local_size is None else list(ln.local_size),
                    "label": ln.label,
                    "node": self.launch_nodes[i],
                    "nodes": self.launch_groups[i],
                    "flops": ln.flops,
                    "nbytes": ln.nbytes,
                    "time_s": t,
                    "gflops": ln.flops / t * 1e-9 if t and ln.flops else None,
                    "gbs": ln.nbytes / t * 1e-9 if t and ln.nbytes else None,
                }
            )
        return rows


def _launch_nodes(exe: Executable) -> list[int | None]:
    """The final-graph node each launch computes, read from its label (lowering numbers nodes
    by their position in ``graph.nodes``); None where the label does not say."""
    graph = exe.info.get("graph")
    nodes = graph.nodes if graph is not None else []
    out: list[int | None] = []
    for ln in exe.launches:
        m = _LABEL.match(ln.label or "")
        k = int(m.group(1)) if m else None
        if k is not None and (k >= len(nodes) or f"= {nodes[k].op}" not in ln.label):
            k = None
        out.append(k)
    return out


def _launch_groups(exe: Executable, launch_nodes: list[int | None]) -> list[list[int]]:
    """Every final-graph node each launch computes: all fused nodes of its node's group (a
    multi-output group is K fused nodes sharing one body), else just its node."""
    graph = exe.info.get("graph")
    groups = fused_groups(graph) if graph is not None else {}
    out: list[list[int]] = []
    for k in launch_nodes:
        body = None if k is None else body_of(graph.nodes[k])
        out.append([] if k is None else groups[id(body)] if body is not None else [k])
    return out


def _forward(graph: Graph) -> Graph:
    """The loss's own subgraph of a train step (its first output), with the inputs it reads."""
    outs = graph.outputs[:1]
    used = {id(n) for n in toposort(outs)}
    return Graph([i for i in graph.inputs if id(i) in used], outs, "forward")


def _stages(d: Dumped) -> list[Stage]:
    info = d.exe.info
    texts = list(info.get("stages") or [])
    graphs = list(info.get("stage_graphs") or [])
    if len(graphs) != len(texts):
        graphs = [(name, None) for name, _ in texts]
    final = info.get("graph")
    out: list[Stage] = []
    for k, ((name, text), (_, g)) in enumerate(zip(texts, graphs, strict=True)):
        if k == 0 and g is not None and g.name == "train_step" and g.outputs:
            fwd = _forward(g)
            out.append(Stage("forward", fwd.dump(), fwd))
            name = "autodiff"
        out.append(Stage(name, text, g))
    if not out and final is not None:  # compiled without keep_stages: only the end is known
        out.append(Stage("final", final.dump(), final))
    out.append(Stage("kernels", kernel_text(d), final, d.kernel_names()))
    return out


def kernel_text(d: Dumped, seen: set[str] | None = None) -> str:
    """The launch table (with times once profiled) and the source of each kernel not in
    ``seen`` (names already printed; updated)."""
    exe = d.exe
    peak = exe.info.get("peak_bytes", 0)
    lines = [f"# {len(exe.launches)} launches of {len(exe.kernels)} kernels, peak {peak} bytes"]
    for r in d.launch_rows():
        local = "x".join(map(str, r["local_size"])) if r["local_size"] else "-"
        t = f" {r['time_s'] * 1e6:9.1f} us" if r["time_s"] is not None else ""
        lines.append(
            f"  [{r['index']:3d}] {r['kernel_name']:<32} global "
            f"{'x'.join(map(str, r['global_size'])):<10} local {local:<6}{t}  "
            f"{r['label']}"
        )
    seen = set() if seen is None else seen
    for k in exe.kernels:
        if k.name in seen:
            lines.append(f"// kernel {k.name}: source shown above")
            continue
        seen.add(k.name)
        opts = f" options {' '.join(k.options)}" if k.options else ""
        lines += ["", f"// ---- kernel {k.name}{opts} ----", k.source.rstrip()]
    return "\n".join(lines)


# -- capture ------------------------------------------------------------------------------------
def write_dump(exe: Executable, directory: str) -> None:
    """Called by the engine for each compiled executable when ``CLFLOW_DUMP=DIR`` is set:
    writes DIR/<nnn>_<graph>.{txt,dot,json,html} (and hands ``exe`` to active captures)."""
    for sink in _sinks:
        sink.append(exe)
    if directory == CAPTURE:
        return
    try:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        d = Dumped(len(list(path.glob("*.json"))), exe)
        stem = path / f"{d.index:03d}_{d.name}"
        stem.with_suffix(".txt").write_text(render([d], "all", "text"))
        stem.with_suffix(".dot").write_text(render([d], "kernels", "dot"))
        stem.with_suffix(".json").write_text(render([d], "all", "json"))
        stem.with_suffix(".html").write_text(render([d], "all", "html"))
    except OSError as e:  # a dump must never break the computation it describes
        warnings.warn(f"CLFLOW_DUMP: cannot write to {directory!r}: {e}", stacklevel=2)


@contextlib.contextmanager
def capture() -> Iterator[list]:
    """Collect every executable compiled inside the block (with a fresh cache, so nothing is
    found already compiled); afterwards the old cache is back, plus the new entries."""
    got: list = []
    old_cache, old_dir = engine._cache, engine._dump_dir
    engine._cache = type(old_cache)()
    engine._dump_dir = old_dir or CAPTURE
    _sinks.append(got)
    try:
        yield got
    finally:
        _sinks.remove(got)
        new_cache = engine._cache
        engine._cache, engine._dump_dir = old_cache, old_dir
        runners = {id(r.executable): r for r in new_cache.values()}
        got[:] = [_Captured(e, runners.get(id(e))) for e in got]
        for k, v in new_cache.items():
            old_cache.setdefault(k, v)


class _Captured:
    """An executable and the runner prepared for it."""

    def __init__(self, exe: Executable, runner: Any) -> None:
        self.exe, self.runner = exe, runner


# -- profiling ----------------------------------------------------------------------------------
def _synthetic(slot: Any, rng: np.random.Generator) -> np.ndarray:
    """Input data of a slot's size: small normals for floats, zeros (valid indices) otherwise."""
    if slot.dtype == "float32":
        return (rng.standard_normal(slot.nbytes // 4) * 0.1).astype(np.float32)
    dtype = {"int32": np.int32, "bool": np.bool_}.get(slot.dtype, np.uint8)
    return np.zeros(slot.nbytes // np.dtype(dtype).itemsize, dtype)


def profile_runs(dumps: list[Dumped], steps: int) -> None:
    """Run each executable ``steps`` times on synthetic inputs with OpenCL profiling and keep
    the median seconds of each launch in ``Dumped.times``."""
    rng = np.random.default_rng(0)
    for d in dumps:
        if d.runner is None or steps <= 0:
            continue
        dev = d.runner.device
        inputs = [dev.upload(_synthetic(d.exe.slots[s], rng)) for s in d.exe.inputs]
        runs = []
        for _ in range(steps):
            d.runner.run(inputs, profile=True)
            runs.append([t for _, t in d.runner.last_profile])
        med = np.median(np.array(runs), axis=0) if runs and runs[0] else []
        ran = [i for i, ln in enumerate(d.exe.launches) if 0 not in ln.global_size]
        d.times = [None] * len(d.exe.launches)
        for i, t in zip(ran, med, strict=True):
            d.times[i] = float(t)


def debug_profile(runner: Any) -> Any:
    """Make ``runner`` profile its first run and print per-kernel times to stderr (for
    ``CLFLOW_DEBUG=2``; the engine calls this on each runner it prepares)."""
    run = runner.run

    def first_run(inputs: list, profile: bool = False) -> list:
        del runner.run  # later runs: the plain method again
        outs = run(inputs, profile=True)
        print(
            f"# kernel times of {runner.executable.info['graph'].name}, first run:\n"
            + runner.profile_table(),
            file=sys.stderr,
        )
        return outs

    runner.run = first_run
    return runner


def profile_table(dumps: list[Dumped]) -> str:
    """Every profiled launch of every executable, slowest first, with GFLOP/s and GB/s."""
    rows = [(r, d) for d in dumps if d.times for r in d.launch_rows() if r["time_s"] is not None]
    rows.sort(key=lambda rd: -rd[0]["time_s"])
    total = sum(r["time_s"] for r, _ in rows) or 1.0
    out = [
        f"{'time us':>10} {'%':>5} {'GFLOP/s':>8} {'GB/s':>7}  {'executable':<14} "
        f"{'kernel':<32} computes"
    ]
    for r, d in rows:
        out.append(
            f"{r['time_s'] * 1e6:10.1f} {100 * r['time_s'] / total:5.1f} "
            f"{r['gflops'] or 0:8.2f} {r['gbs'] or 0:7.2f}  {f'{d.index}:{d.name}':<14} "
            f"{r['kernel_name']:<32} {r['label']}"
        )
    out.append(f"{total * 1e6:10.1f} us in {len(rows)} launches (median of the profiled runs)")
    return "\n".join(out)


# -- rendering ----------------------------------------------------------------------------------
def stage_names(dumps: list[Dumped]) -> list[str]:
    """Every stage name present, in pipeline order."""
    names: list[str] = []
    for d in sorted(dumps, key=lambda d: -len(d.stages)):
        for s in d.stages:
            if s.name not in names:
                names.append(s.name)
    return names


def main_index(dumps: list[Dumped]) -> int:
    """The executable a single picture shows: the biggest train step, else the biggest."""
    steps = [d for d in dumps if d.name == "train_step"] or dumps
    return max(steps, key=lambda d: len(d.exe.launches)).index


def _check(dumps: list[Dumped], stage: str, fmt: str) -> None:
    if fmt not in FORMATS:
        raise DumpError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    names = stage_names(dumps)
    if stage != "all" and stage not in names:
        raise DumpError(f"unknown stage {stage!r}; this target has: all, {', '.join(names)}")


def _pick(dumps: list[Dumped], exe: int | None) -> Dumped:
    if exe is None:
        exe = main_index(dumps)
    for d in dumps:
        if d.index == exe:
            return d
    raise DumpError(f"no executable {exe}; this target compiled {len(dumps)} (0..{len(dumps) - 1})")


def graph_json(stage: Stage) -> dict | None:
    """A stage's graph as plain data: nodes, edges and fused clusters."""
    if stage.graph is None:
        return None
    g = to_networkx(stage.graph, stage.kernels)
    return {
        "nodes": [{"id": n, **d} for n, d in g.nodes(data=True)],
        "edges": [[a, b] for a, b in g.edges()],
        "clusters": [{"id": c, **v} for c, v in g.graph["clusters"].items()],
    }


def to_data(dumps: list[Dumped]) -> dict:
    """Everything the JSON and HTML formats hold."""
    try:
        device = engine.device()
        dev = f"{device.platform_name}: {device.name}"
    except Exception:  # a dump of an executable is still useful without a device
        dev = None
    execs = []
    for d in dumps:
        execs.append(
            {
                "index": d.index,
                "name": d.name,
                "peak_bytes": d.exe.info.get("peak_bytes"),
                "profiled": d.times is not None,
                "stages": [
                    {
                        "name": s.name,
                        "text": s.text,
                        "graph": graph_json(s),
                        "final": s.graph is not None and s.graph is d.exe.info.get("graph"),
                    }
                    for s in d.stages
                ],
                "kernels": [
                    {"name": k.name, "source": k.source, "options": list(k.options)}
                    for k in d.exe.kernels
                ],
                "launches": d.launch_rows(),
                "slots": [
                    {"role": s.role, "nbytes": s.nbytes, "dtype": s.dtype, "shape": list(s.shape)}
                    for s in d.exe.slots
                ],
            }
        )
    return {
        "clflow_dump": 1,
        "device": dev,
        "main": main_index(dumps) if dumps else None,
        "executables": execs,
    }


def render(
    dumps: list[Dumped], stage: str = "all", fmt: str = "text", exe: int | None = None
) -> str:
    """The dump as text in format ``fmt``; dot/svg draw one stage of one executable.

    Raises NoGraphviz for 'svg' when Graphviz is missing (its ``dot_text`` is the fallback).
    """
    _check(dumps, stage, fmt)
    if fmt == "json":
        return json.dumps(to_data(dumps), indent=1)
    if fmt == "html":
        from .dump_html import render_html

        return render_html(to_data(dumps))
    if fmt == "text":
        parts, seen = [], set()
        for d in dumps:
            parts.append(
                f"# ==== executable {d.index}: {d.name} ({len(d.exe.launches)} launches) ===="
            )
            for s in d.stages:
                if stage in ("all", s.name):
                    text = kernel_text(d, seen) if s.name == "kernels" else s.text
                    parts.append(f"# --- {s.name} ---\n{text}")
        return "\n".join(parts) + "\n"
    d = _pick(dumps, exe)
    chosen = [s for s in d.stages if s.name == ("kernels" if stage == "all" else stage)]
    if not chosen or chosen[0].graph is None:
        raise DumpError(f"executable {d.index} ({d.name}) has no graph for stage {stage!r}")
    s = chosen[0]
    text = to_dot(s.graph, s.kernels, title=f"{d.name}: {s.name}")
    return text if fmt == "dot" else svg_from_dot(text)


def svg_from_dot(text: str) -> str:
    """SVG drawn by Graphviz's ``dot``; raises NoGraphviz when it is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        raise NoGraphviz(text)
    r = subprocess.run([exe, "-Tsvg"], input=text, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise DumpError(f"Graphviz 'dot' failed: {r.stderr.strip()}")
    return r.stdout


# -- the public entry point ---------------------------------------------------------------------
def dump_graph(
    target: Any,
    stage: str = "all",
    format: str = "text",  # noqa: A002
    path: str | os.PathLike | None = None,
    profile: int = 0,
    exe: int | None = None,
) -> str:
    """Show every stage of what ``target`` compiles: traced graph, autodiff, passes, kernels.

    Args:
        target: a model object, a saved model (directory or model.json path), a Python file,
            ``'module:function'``, a callable (run once, capturing what it compiles), or an
            Executable.
        stage: ``'all'`` or one stage name (forward, autodiff/traced, a pass name, kernels).
        format: text, dot, svg (needs Graphviz; else DOT with a warning), json or html.
        path: also write the result there.
        profile: run each executable this many times with OpenCL profiling and show times.
        exe: for dot/svg, which executable to draw (default: the biggest train step).

    Example:
        >>> model = tf.sequential(layers=[tf.layers.dense(units=10, input_shape=[784])])
        >>> print(tf.dump_graph(model, stage='kernels'))
        >>> tf.dump_graph(model, format='html', path='step.html', profile=5)
    """
    from .dump_targets import collect

    dumps = collect(target)
    if profile:
        profile_runs(dumps, int(profile))
    try:
        text = render(dumps, stage, format, exe)
    except NoGraphviz as e:
        text = e.dot_text
        if path is not None:
            path = Path(path).with_suffix(".dot")
        warnings.warn(
            f"{e}; returning DOT instead" + (f" (written to {path})" if path else ""), stacklevel=2
        )
    if path is not None:
        Path(path).write_text(text)
    return text
