"""Square matmul GFLOP/s: clflow's GEMM kernel (one launch) against numpy float32.

Run: python benchmarks/matmul.py [--sizes 256 512 1024 2048] [--reps 7] [--json]
     [--kind cpu|gpu] [--params '{"wg": 64}'] [--mlp]
--mlp also times the GEMMs of two MLP train steps (M1: 784-32-10 batch 32; M2: 784-512-512-10
batch 128), forward, input gradient and weight gradient, each against numpy.
--params overrides the GEMM tile parameters (see clflow.kernels.gemm.DEFAULT_PARAMS).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyopencl as cl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kernels.gemm import GemmPlan, plan_gemm  # noqa: E402

MLP_SHAPES = {  # name: (m, n, k, trans_a, trans_b)
    "M1 fwd1 X@W1 32x784@784x32": (32, 32, 784, False, False),
    "M1 fwd2 H@W2 32x32@32x10": (32, 10, 32, False, False),
    "M1 dW2 H^T@dY 32x32^T@32x10": (32, 10, 32, True, False),
    "M1 dH dY@W2^T 32x10@(32x10)^T": (32, 32, 10, False, True),
    "M1 dW1 X^T@dH 32x784^T@32x32": (784, 32, 32, True, False),
    "M2 fwd1 128x784@784x512": (128, 512, 784, False, False),
    "M2 fwd2 128x512@512x512": (128, 512, 512, False, False),
    "M2 fwd3 128x512@512x10": (128, 10, 512, False, False),
    "M2 dH2 128x10@(512x10)^T": (128, 512, 10, False, True),
    "M2 dH1 128x512@(512x512)^T": (128, 512, 512, False, True),
    "M2 dW1 (128x784)^T@128x512": (784, 512, 128, True, False),
    "M2 dW2 (128x512)^T@128x512": (512, 512, 128, True, False),
    "M2 dW3 (128x512)^T@128x10": (512, 10, 128, True, False),
}


class Runner:
    """Builds a plan's programs once and enqueues its launches back to back."""

    def __init__(self, ctx: cl.Context, queue: cl.CommandQueue, plan: GemmPlan, a, b, c):
        self.queue = queue
        # Kept on self: clSetKernelArg does not keep the temporary buffers alive.
        self.bufs = bufs = {"A": a, "B": b, "C": c}
        for name, nbytes in plan.temps.items():
            bufs[name] = cl.Buffer(ctx, cl.mem_flags.READ_WRITE, nbytes)
        self.calls = []
        for launch in plan.launches:
            kernel = cl.Kernel(cl.Program(ctx, launch.source).build(), launch.name)
            kernel.set_args(*(bufs[arg] for arg in launch.args))
            self.calls.append((kernel, launch.global_size, launch.local_size))

    def enqueue(self) -> None:
        for kernel, gsize, lsize in self.calls:
            cl.enqueue_nd_range_kernel(self.queue, kernel, gsize, lsize)


def median_time(fn, reps: int, sync=lambda: None, min_time: float = 0.05) -> float:
    """Median seconds per call of fn; each sample repeats fn back to back (as a training step
    enqueues its launches) until it lasts min_time, then calls sync once."""
    fn()
    sync()
    inner = 1
    while True:
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        if time.perf_counter() - start >= min_time or inner >= 1 << 12:
            break
        inner *= 2
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        samples.append((time.perf_counter() - start) / inner)
    # Let pocl's and OpenBLAS's worker threads stop spinning before the other side is timed.
    time.sleep(0.3)
    return float(np.median(samples))


def bench(ctx, queue, m, n, k, trans_a, trans_b, kind, reps, params=None) -> tuple:
    """Seconds per call for our kernels and numpy, and the launch count."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
    mf = cl.mem_flags
    a_buf = cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=a)
    b_buf = cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=b)
    c_buf = cl.Buffer(ctx, mf.WRITE_ONLY, m * n * 4)
    plan = plan_gemm(m, n, k, trans_a=trans_a, trans_b=trans_b, device_kind=kind, params=params)
    run = Runner(ctx, queue, plan, a_buf, b_buf, c_buf)
    ours = median_time(run.enqueue, reps, queue.finish)
    result = np.empty((m, n), np.float32)
    cl.enqueue_copy(queue, result, c_buf)
    op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
    ref = op_a.astype(np.float64) @ op_b.astype(np.float64)
    if not np.allclose(result, ref, rtol=1e-3, atol=1e-4 * np.abs(ref).max()):
        raise SystemExit(f"wrong result for {m}x{k}x{n}")
    theirs = median_time(lambda: np.matmul(op_a, op_b), reps)
    return ours, theirs, len(plan.launches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--kind", choices=["cpu", "gpu"], default=None)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--mlp", action="store_true", help="also time the MLP train-step GEMMs")
    parser.add_argument("--params", type=json.loads, default=None, help="GEMM tile parameters")
    args = parser.parse_args()
    ctx = cl.create_some_context(interactive=False)
    queue = cl.CommandQueue(ctx)
    device = ctx.devices[0]
    kind = args.kind or ("gpu" if device.type & cl.device_type.GPU else "cpu")
    coretype = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    if not args.json:
        print(f"device: {device.name.strip()} ({kind} kernels); OPENBLAS_CORETYPE={coretype}")
        print(f"{'size':>6} {'clflow GF/s':>12} {'numpy GF/s':>11} {'ratio':>6} {'launches':>8}")
    for size in args.sizes:
        ours, theirs, launches = bench(
            ctx, queue, size, size, size, False, False, kind, args.reps, args.params
        )
        flops = 2 * size**3
        row = {
            "n": size,
            "clflow_gflops": flops / ours / 1e9,
            "numpy_gflops": flops / theirs / 1e9,
            "ratio": theirs / ours,
            "launches": launches,
            "openblas_coretype": coretype,
        }
        if args.json:
            print(json.dumps(row))
        else:
            print(
                f"{size:>6} {row['clflow_gflops']:>12.1f} {row['numpy_gflops']:>11.1f} "
                f"{row['ratio']:>6.2f} {launches:>8}"
            )
    if args.mlp:
        if not args.json:
            print(
                f"\n{'MLP GEMM':<31} {'clflow us':>9} {'numpy us':>9} {'ratio':>6} {'launches':>8}"
            )
        for name, (m, n, k, ta, tb) in MLP_SHAPES.items():
            ours, theirs, launches = bench(
                ctx, queue, m, n, k, ta, tb, kind, args.reps, args.params
            )
            row = {"mlp": name, "clflow_us": ours * 1e6, "numpy_us": theirs * 1e6}
            row.update({"ratio": theirs / ours, "launches": launches})
            if args.json:
                print(json.dumps(row))
            else:
                print(
                    f"{name:<31} {ours * 1e6:>9.1f} {theirs * 1e6:>9.1f} {theirs / ours:>6.2f} "
                    f"{launches:>8}"
                )


if __name__ == "__main__":
    main()
