"""``clflow tune``: time GEMM tile parameters on this device and cache the winner.

The GEMM renderer's parameters (``clflow.kernels.gemm.DEFAULT_PARAMS``) are a table per device
kind. ``tune`` times a small set of candidates on a few representative shapes (each candidate
checked against numpy first), keeps the fastest by the geometric mean of its time relative to
the built-in parameters, and stores it in ``tuned_params.json`` under ``$CLFLOW_CACHE_DIR``
(else ``~/.cache/clflow``), keyed by platform name, device name and driver version.
``engine.device()`` applies the stored entry once per chosen device, so later processes plan
their GEMMs with it.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyopencl as cl

from .kernels import gemm
from .runtime import cache_dir

CACHE_FILE = "tuned_params.json"
# (m, n, k, trans_a, trans_b): a big square GEMM and the three GEMM forms of an MLP train step.
SHAPES: tuple[tuple[int, int, int, bool, bool], ...] = (
    (1024, 1024, 1024, False, False),
    (128, 512, 784, False, False),
    (128, 512, 512, False, True),
    (784, 512, 128, True, False),
)
# Overrides of DEFAULT_PARAMS[kind]; the first, {}, is the built-in table (the baseline).
CANDIDATES: dict[str, tuple[dict, ...]] = {
    "cpu": (
        {},
        {"wg": 8},
        {"wg": 32},
        {"walk": "m"},
        {"unroll": 8},
        {"tn": 48},
        {"tm_big": 8, "tn_big": 32},
        {"tm_big": 8, "tn_big": 48},
        {"wg_big": 128},
        {"wg_big": 256, "walk": "m"},
    ),
    "gpu": (
        {},
        {"wg": (8, 8)},
        {"wg": (32, 8)},
        {"rm": 8, "rn": 4},
        {"tk": 8},
        {"tk": 32},
    ),
}
MIN_GAIN = 0.03  # a candidate must beat the built-ins by this much to be stored

_applied: list = [None]  # the device whose cached parameters are in effect


def cache_path() -> Path:
    """The JSON file holding tuned parameters of every device seen on this machine."""
    return cache_dir() / CACHE_FILE


def device_key(device) -> str:
    """The cache key of a runtime Device: platform name, device name, driver version."""
    return f"{device.platform_name} | {device.name} | {device.driver_version}"


def param_kind(device) -> str:
    """The GEMM parameter table a device uses: 'gpu' for GPUs, 'cpu' for everything else."""
    return "gpu" if device.kind == "gpu" else "cpu"


def _read_cache(path: Path) -> dict:
    """The cache file's contents ({} when missing); warns and returns {} when unreadable."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        warnings.warn(f"clflow: ignoring unreadable tuning cache {path}: {e}", stacklevel=3)
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("devices"), dict) else {}


def load_tuned(device) -> dict | None:
    """The stored parameters for ``device`` (checked), or None when there are none or they are
    unusable (a warning says why)."""
    path = cache_path()
    entry = _read_cache(path).get("devices", {}).get(device_key(device))
    if entry is None:
        return None
    params = entry.get("params") if isinstance(entry, dict) else None
    kind = param_kind(device)
    try:
        if not isinstance(params, dict):
            raise ValueError(f"expected a 'params' object, got {params!r}")
        gemm._check_params(kind, params, gemm.DEFAULT_PARAMS[kind])
    except ValueError as e:
        warnings.warn(
            f"clflow: ignoring tuned parameters for {device_key(device)} in {path}: {e}; "
            "run `clflow tune` again",
            stacklevel=2,
        )
        return None
    return params


def apply_cached(device) -> dict | None:
    """Make ``device``'s stored parameters (or the built-ins) the GEMM defaults, once per
    device; returns the stored parameters applied, or None."""
    if _applied[0] is device:
        return None
    params = load_tuned(device)
    gemm.set_tuned_params(param_kind(device), params)
    _applied[0] = device
    return params


def forget_applied() -> None:
    """Make the next ``apply_cached`` read the cache again (after it changed)."""
    _applied[0] = None


def _write_cache(path: Path, data: dict) -> None:
    """Replace the cache file atomically, so a concurrent reader sees old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


class _Case:
    """One shape's operands on the device, and launches of plans bound to them."""

    def __init__(self, device, shape, seed: int = 0) -> None:
        m, n, k, trans_a, trans_b = shape
        rng = np.random.default_rng(seed)
        self.a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
        self.b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
        op_a = self.a.T if trans_a else self.a
        op_b = self.b.T if trans_b else self.b
        self.ref = op_a.astype(np.float64) @ op_b.astype(np.float64)
        self.device, self.shape = device, shape
        self.bufs = {
            "A": device.upload(self.a),
            "B": device.upload(self.b),
            "C": device.alloc(m * n * 4),
        }

    def bind(self, plan: gemm.GemmPlan) -> Callable[[], None]:
        """A function enqueueing the plan's launches (temporaries allocated here)."""
        bufs = dict(self.bufs)
        bufs.update({name: self.device.alloc(size) for name, size in plan.temps.items()})
        calls = []
        for launch in plan.launches:
            kernel = self.device.kernel(launch.source, launch.name)
            kernel.set_args(*(bufs[arg].buf for arg in launch.args))
            calls.append((kernel, launch.global_size, launch.local_size))
        queue = self.device.queue

        def enqueue() -> None:
            for kernel, gsize, lsize in calls:
                cl.enqueue_nd_range_kernel(queue, kernel, gsize, lsize)

        enqueue.keep = bufs  # clSetKernelArg does not keep the buffers alive
        return enqueue

    def correct(self, enqueue: Callable[[], None]) -> bool:
        """Whether the bound plan computes this shape's product (float64 reference)."""
        enqueue()
        got = self.device.download(self.bufs["C"], self.ref.shape, np.float32)
        scale = max(1.0, float(np.abs(self.ref).max()))
        return bool(np.allclose(got, self.ref, rtol=1e-3, atol=1e-4 * scale))


def _sample(enqueue: Callable[[], None], queue, inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        enqueue()
    queue.finish()
    return (time.perf_counter() - start) / inner


def _inner_count(enqueue, queue, min_time: float) -> int:
    """Launches per sample so that one sample lasts about min_time."""
    inner = 1
    while inner < 4096 and _sample(enqueue, queue, inner) * inner < min_time:
        inner *= 2
    return inner


def _parse_candidates(kind: str, candidates: Sequence[dict] | None) -> list[dict]:
    """Distinct full parameter dicts (built-ins updated by each candidate), each checked."""
    base = gemm.DEFAULT_PARAMS[kind]
    cands = list(CANDIDATES[kind] if candidates is None else candidates)
    if not cands:
        raise ValueError("tune: no candidates to time")
    full: list[dict] = []
    for cand in cands:
        params = gemm._check_params(kind, dict(cand), base)
        if params not in full:  # a candidate equal to the built-ins (or another) runs once
            full.append(params)
    return full


def _label(params: dict, base: dict) -> str:
    diff = {k: v for k, v in params.items() if base.get(k) != v}
    return ", ".join(f"{k}={v}" for k, v in diff.items()) or "built-in"


def _shape_name(shape) -> str:
    m, n, k, ta, tb = shape
    return f"{m}x{n}x{k}{'t' if ta else 'n'}{'t' if tb else 'n'}"


def tune(
    device=None,
    shapes: Sequence[tuple[int, int, int, bool, bool]] | None = None,
    candidates: Sequence[dict] | None = None,
    reps: int = 5,
    min_time: float = 0.02,
    save: bool = True,
    log: Callable[[str], None] | None = print,
) -> dict:
    """Time GEMM parameter candidates on ``device``, store and apply the fastest.

    Each candidate is checked against numpy on every shape first (a wrong one is dropped);
    samples of all candidates are interleaved so that a busy moment hurts them alike; the
    score is the geometric mean over shapes of the median time relative to the first
    candidate. The winner is stored only when it beats the first candidate by ``MIN_GAIN``.

    Args:
        device: a runtime Device (default: the one clflow computes on).
        shapes: (m, n, k, trans_a, trans_b) tuples (default ``SHAPES``).
        candidates: overrides of the kind's built-in parameters (default ``CANDIDATES``);
            the first is the baseline.
        reps: timed samples per candidate and shape.
        min_time: seconds each sample lasts at least (launches repeated back to back).
        save: write the winner to the cache file and apply it in this process.
        log: where progress lines go (None: silent).

    Returns:
        {'device', 'kind', 'params', 'label', 'scores', 'gflops', 'path'} where ``gflops``
        maps each candidate label to its GFLOP/s per shape.

    Example:
        >>> result = tune(shapes=[(64, 64, 64, False, False)], reps=1)  # doctest: +SKIP
        >>> result["params"]["wg"]  # doctest: +SKIP
        16
    """
    from . import engine

    device = engine.device() if device is None else device
    kind = param_kind(device)
    shapes = [tuple(s) for s in (SHAPES if shapes is None else shapes)]
    if not shapes:
        raise ValueError("tune: no shapes to time")
    if reps < 1:
        raise ValueError(f"tune: reps must be >= 1, got {reps}")
    full = _parse_candidates(kind, candidates)
    base = gemm.DEFAULT_PARAMS[kind]
    labels = [_label(p, base) for p in full]
    say = log or (lambda _msg: None)
    say(f"tuning GEMM parameters on {device_key(device)} ({kind} kind)")
    times: list[list[float | None]] = [[None] * len(shapes) for _ in full]
    for s, shape in enumerate(shapes):
        m, n, k, ta, tb = shape
        case = _Case(device, shape)
        runs = {}
        for c, params in enumerate(full):
            plan = gemm.plan_gemm(m, n, k, trans_a=ta, trans_b=tb, device_kind=kind, params=params)
            enqueue = case.bind(plan)
            if case.correct(enqueue):
                runs[c] = (enqueue, _inner_count(enqueue, device.queue, min_time))
            else:
                say(f"  {labels[c]}: WRONG result on {_shape_name(shape)}, dropped")
        samples: dict[int, list[float]] = {c: [] for c in runs}
        for _ in range(reps):
            for c, (enqueue, inner) in runs.items():
                samples[c].append(_sample(enqueue, device.queue, inner))
        for c, values in samples.items():
            times[c][s] = statistics.median(values)
    scores = {}
    gflops = {}
    for c, label in enumerate(labels):
        row = times[c]
        gflops[label] = {
            _shape_name(sh): (2 * sh[0] * sh[1] * sh[2] / t / 1e9 if t else None)
            for sh, t in zip(shapes, row, strict=True)
        }
        if all(t is not None for t in row) and all(t is not None for t in times[0]):
            ratios = [t / t0 for t, t0 in zip(row, times[0], strict=True)]
            scores[label] = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    if not scores:
        raise RuntimeError("tune: no candidate (nor the baseline) computed every shape right")
    names = [_shape_name(sh) for sh in shapes]
    width = max(len(label) for label in labels)
    say(f"{'candidate':<{width}}  " + "  ".join(f"{n:>14}" for n in names) + "  rel.time")
    for label in labels:
        cells = [gflops[label][n] for n in names]
        text = "  ".join(f"{'-' if g is None else f'{g:.1f} GF/s':>14}" for g in cells)
        score = scores.get(label)
        say(f"{label:<{width}}  {text}  {'-' if score is None else f'{score:.3f}'}")
    best = min(scores, key=scores.get)
    if scores[best] > 1.0 - MIN_GAIN:
        best = labels[0]
    winner = full[labels.index(best)]
    result = {
        "device": device_key(device),
        "kind": kind,
        "params": winner,
        "label": best,
        "scores": scores,
        "gflops": gflops,
        "path": None,
    }
    if save:
        path = cache_path()
        data = _read_cache(path) or {"version": 1, "devices": {}}
        data["devices"][device_key(device)] = {
            "platform": device.platform_name,
            "device": device.name,
            "driver": device.driver_version,
            "kind": kind,
            "params": winner,
            "gflops": gflops[best],
            "shapes": names,
            "tuned_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        _write_cache(path, data)
        result["path"] = str(path)
        forget_applied()  # engine.device() applies the new entry on its next call
        say(f"winner: {best}; saved to {path}")
    else:
        say(f"winner: {best} (not saved)")
    return result


def forget(device) -> bool:
    """Remove ``device``'s entry from the cache file; True when there was one."""
    path = cache_path()
    data = _read_cache(path)
    if device_key(device) not in data.get("devices", {}):
        return False
    del data["devices"][device_key(device)]
    _write_cache(path, data)
    forget_applied()
    return True


if __name__ == "__main__":  # python -m clflow.tune: the same as `clflow tune`
    from .cli import main

    sys.exit(main(["tune", *sys.argv[1:]]))
