"""Per-step host overhead of the guide's Core API loop at batch 32 (target: < 0.3 ms).

Run:  python benchmarks/core_step.py [--steps 300] [--profile]

One ``optimizer.minimize(f)`` of the guide's two-layer model is: trace ``f`` in Python (build
the lazy graph), compute its structural key, look the compiled step up and enqueue the kernels
(the learning rate is uploaded only when it changes, the step count is carried on the device
or, for SGD, not read at all). The figures:

- ``minimize, idle device``: the host cost of one call, the queue drained between calls.
- ``minimize, no sync``: the same call while the previous steps' kernels still run (on a CPU
  OpenCL device they share the cores with Python, so this is slower).
- ``minimize + read loss``: a whole step as the guide writes it (it prints every loss), so
  host and device time in series.
- the parts of one call, timed one by one on the same state.

``--profile`` adds a cProfile of the no-sync loop, sorted by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time

import clflow as tf
import numpy as np
from clflow import engine
from clflow.gradients import trace
from clflow.optimizer import _hyper_leaf, _true_leaf


def median_us(fn, n: int, drain=None) -> float:
    """Median time of ``fn()``; ``drain()`` (untimed) runs after each call when given."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
        if drain is not None:
            drain()
    return statistics.median(times) / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    n = args.steps

    tf.set_seed(0)
    w1 = tf.variable(tf.random_normal([784, 32], 0, 0.05))
    b1 = tf.variable(tf.zeros([32]))
    w2 = tf.variable(tf.random_normal([32, 10], 0, 0.05))
    b2 = tf.variable(tf.zeros([10]))
    xs = tf.random_normal([32, 784])
    ys = tf.tensor(np.eye(10, dtype=np.float32)[np.arange(32) % 10])

    def model(x):
        return x.mat_mul(w1).add(b1).relu().mat_mul(w2).add(b2)

    def f():
        return tf.losses.softmax_cross_entropy(ys, model(xs))

    opt = tf.train.sgd(0.01)
    for _ in range(5):  # compile and warm the pool
        float(opt.minimize(f, return_cost=True))
    dev = engine.device()
    compiles = engine.cache_info()["compiles"]

    def no_sync():
        opt.minimize(f)

    def with_sync():
        float(opt.minimize(f, return_cost=True))

    # On a CPU device the kernels of step k run on the same cores as the Python of step k+1,
    # so the host cost is measured with the queue drained (untimed) after each call too.
    idle = median_us(no_sync, n, drain=dev.finish)
    dev.finish()
    t0 = time.perf_counter()
    host = median_us(no_sync, n)
    dev.finish()
    loop_no_sync = (time.perf_counter() - t0) / n * 1e6
    synced = median_us(with_sync, n)

    # The parts of one call.
    heads = [trace(f).node]
    key, leaves = engine.structure(heads, _true_leaf)
    wanted = tuple(i for i, lf in enumerate(leaves) if lf.var is not None and lf.var.trainable)
    step_key = ("step", key, wanted, opt.config_key())
    parts = {
        "trace f (build the lazy graph)": median_us(lambda: trace(f), n),
        "structure key of the graph": median_us(lambda: engine.structure(heads, _true_leaf), n),
        "one scalar upload (avoided per step)": median_us(lambda: _hyper_leaf(0.1), n),
    }
    parts["look the step up"] = median_us(lambda: engine.lookup(step_key), n)
    runner = engine.lookup(step_key)  # SGD has no slots: inputs are leaves, lr, t
    bufs = [lf.data for lf in leaves] + [_hyper_leaf(0.1).data, _hyper_leaf(1).data]
    dev.finish()
    parts["runner.run (enqueue launches)"] = median_us(lambda: runner.run(bufs), n)
    dev.finish()

    assert engine.cache_info()["compiles"] == compiles, "the loop recompiled"
    print(f"OpenCL device: {tf.get_backend()}")
    print(f"guide Core API step, batch 32, {n} steps, medians")
    print(f"  minimize, idle device    {idle:8.1f} us/step (host overhead; target < 300)")
    print(f"  minimize, no sync        {host:8.1f} us/step (host, device busy beside it)")
    print(f"  loop, no sync, drained   {loop_no_sync:8.1f} us/step (host + device, overlapped)")
    print(f"  minimize + read loss     {synced:8.1f} us/step (host + device, in series)")
    for name, us in parts.items():
        print(f"    {name:32s} {us:8.1f} us")
    print(f"  kernel launches per step {runner.num_launches}")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n):
            no_sync()
        prof.disable()
        dev.finish()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main()
