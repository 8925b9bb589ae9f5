"""fit() throughput of two MLPs on the OpenCL device, against the same training in numpy.

Run: python benchmarks/train_mlp.py [--samples 10000] [--epochs 4] [--models M1 M2] [--json]
     [--cold]

M1 is the guide's model (784-32 relu-10 softmax, batch 32), M2 784-512-512-10 relu (batch
128); both SGD(0.01) on categorical cross-entropy over synthetic data. Figures: samples/s
(median of the epochs after a warm-up epoch), kernels per train step (launches of the cached
step executable), first-epoch time (includes compiling the step), peak device memory, and
numpy's samples/s for the same forward/backward/SGD loop. --json prints one object per model.
--cold also times the first epoch in a fresh process with empty pocl and clflow caches (every
kernel compiled from source), as a new user's first run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import clflow as tf  # noqa: E402

MODELS = {"M1": ([32], 32), "M2": ([512, 512], 128)}  # hidden relu widths, batch size
LR = 0.01


def build(hidden: list[int]):
    layers = [tf.layers.dense({"inputShape": [784], "units": hidden[0], "activation": "relu"})]
    layers += [tf.layers.dense({"units": u, "activation": "relu"}) for u in hidden[1:]]
    layers.append(tf.layers.dense({"units": 10, "activation": "softmax"}))
    model = tf.sequential({"layers": layers})
    model.compile({"optimizer": tf.train.sgd(LR), "loss": "categoricalCrossentropy",
                   "metrics": ["accuracy"]})  # fmt: skip
    return model


def step_runners() -> dict:
    return {k: r for k, r in tf.engine._cache.items() if isinstance(k, tuple) and k[0] == "step"}


def time_clflow(hidden, batch, x, y, epochs):
    model = build(hidden)
    pool = getattr(tf.engine.device(), "pool", None)
    if pool is not None and hasattr(pool, "peak_bytes"):
        pool.peak_bytes = pool.bytes_in_use  # peak of this model's run, not of the process
    before = set(step_runners())
    stamps = []
    start = time.perf_counter()
    model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch,
        verbose=0,
        callbacks={"on_epoch_end": lambda e, logs: stamps.append(time.perf_counter())},
    )
    times = [b - a for a, b in zip([start] + stamps[:-1], stamps, strict=True)]
    new = [r for k, r in step_runners().items() if k not in before]
    kernels = max((len(r.executable.launches) for r in new), default=None)
    return times, kernels, tf.memory()["peak_bytes"]


def time_numpy(hidden, batch, x, y, epochs):
    """The same training in float32 numpy: forward, softmax cross-entropy, backward, SGD."""
    rng = np.random.default_rng(0)
    sizes = [784, *hidden, 10]
    ws = [(rng.normal(size=(a, b)) * np.sqrt(2 / (a + b))).astype(np.float32)
          for a, b in zip(sizes, sizes[1:], strict=False)]  # fmt: skip
    bs = [np.zeros(b, np.float32) for b in sizes[1:]]
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(x))
        for s in range(0, len(x), batch):
            idx = order[s : s + batch]
            xb, yb = x[idx], y[idx]
            acts = [xb]
            for w, b in zip(ws[:-1], bs[:-1], strict=False):
                acts.append(np.maximum(acts[-1] @ w + b, 0))
            z = acts[-1] @ ws[-1] + bs[-1]
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            _loss = -np.log(np.clip((p * yb).sum(1), 1e-7, 1)).mean()
            d = (p - yb) / len(xb)
            for k in range(len(ws) - 1, -1, -1):
                gw, gb = acts[k].T @ d, d.sum(0)
                if k:
                    d = (d @ ws[k].T) * (acts[k] > 0)
                ws[k] -= LR * gw
                bs[k] -= LR * gb
        times.append(time.perf_counter() - t0)
    return times


def cold_first_epoch(name: str, samples: int) -> float:
    """First-epoch seconds of model ``name`` in a child process with empty kernel caches."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, POCL_CACHE_DIR=tmp, CLFLOW_CACHE_DIR=tmp)
        cmd = [sys.executable, __file__, "--models", name, "--epochs", "1", "--json"]
        out = subprocess.run(
            [*cmd, "--samples", str(samples)], env=env, capture_output=True, text=True, check=True
        )
    return json.loads(out.stdout.strip().splitlines()[-1])["first_epoch_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=4, help="including the warm-up epoch")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--cold", action="store_true", help="also time a cold-cache first epoch")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.samples, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, args.samples)]
    device = tf.get_backend()
    if not args.json:
        print(f"device: {device}; {args.samples} samples, {args.epochs} epochs (first = warm-up)")
    for name in args.models:
        hidden, batch = MODELS[name]
        times, kernels, peak = time_clflow(hidden, batch, x, y, args.epochs)
        np_times = time_numpy(hidden, batch, x, y, args.epochs)
        warm = times[1:] or times
        result = {
            "model": f"{name} 784-{'-'.join(map(str, hidden))}-10 batch {batch}",
            "device": device,
            "samples_per_s": round(args.samples / statistics.median(warm), 1),
            "numpy_samples_per_s": round(
                args.samples / statistics.median(np_times[1:] or np_times), 1
            ),
            "kernels_per_step": kernels,
            "first_epoch_s": round(times[0], 3),
            "peak_device_bytes": peak,
        }
        if args.cold:
            result["first_epoch_cold_s"] = cold_first_epoch(name, args.samples)
        if args.json:
            print(json.dumps(result))
        else:
            ratio = result["samples_per_s"] / result["numpy_samples_per_s"]
            print(f"{result['model']}: {result['samples_per_s']:.0f} samples/s "
                  f"(numpy {result['numpy_samples_per_s']:.0f}, ratio {ratio:.2f}), "
                  f"{kernels} kernels/step, first epoch {times[0]:.2f} s"
                  + (f" ({result['first_epoch_cold_s']:.2f} s cold)" if args.cold else "")
                  + ", "
                  f"peak device memory {peak / 2**20:.1f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
