"""Fused kernels on the device: fused and unfused pipelines against the float64 interpreter,
plus golden sources of a few canonical fused kernels.

Set CLFLOW_REGEN_GOLDEN=1 to rewrite the golden files after an intended codegen change.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from clflow.compiler.autodiff import gradients
from clflow.compiler.interpreter import interpret
from clflow.compiler.ir import Graph, Node
from clflow.compiler.ops import NP_DTYPE, make
from clflow.compiler.pipeline import compile_graph
from clflow.runtime import get_device
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

GOLDEN = Path(__file__).parent / "golden"


def M(op, *ins, **attrs):
    return make(op, ins, **attrs)


def inp(k: int, shape, dtype: str = "float32") -> Node:
    return Node("input", (), {"index": k, "role": "input"}, tuple(shape), dtype)


def run(graph: Graph, vals: list[np.ndarray], passes=None, kind=None) -> list[np.ndarray]:
    dev = get_device()
    runner = dev.prepare(compile_graph(graph, device_kind=kind or dev.kind, passes=passes))
    bufs = [
        dev.upload(np.ascontiguousarray(a, NP_DTYPE[n.dtype]))
        for a, n in zip(vals, graph.inputs, strict=True)
    ]
    outs = runner.run(bufs)
    return [
        dev.download(b, o.shape, NP_DTYPE[o.dtype])
        for b, o in zip(outs, graph.outputs, strict=True)
    ]


def check_both(graph: Graph, vals: list[np.ndarray], rtol=1e-3, atol=1e-4) -> None:
    """Unfused and fused device results both match the float64 interpreter."""
    want = interpret(graph, vals, precision="float64")
    for passes in ([], None):
        got = run(graph, vals, passes)
        tag = "fused" if passes is None else "unfused"
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"output {k} ({tag})")


def mlp_step(sizes, batch):
    rng = np.random.default_rng(0)
    x, y = inp(0, (batch, sizes[0])), inp(1, (batch, sizes[-1]))
    params, vals = [], []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        params += [inp(len(params) + 2, (a, b)), inp(len(params) + 3, (b,))]
        vals += [rng.normal(0, 0.2, (a, b)), rng.normal(0, 0.2, b)]
    lr = inp(len(params) + 2, ())
    h = x
    for i in range(0, len(params), 2):
        h = M("add", M("matmul", h, params[i]), params[i + 1])
        h = M("relu", h) if i + 2 < len(params) else h
    loss = M(
        "div", M("sum", M("neg", M("sum", M("mul", y, M("log_softmax", h)), axes=-1))), float(batch)
    )
    new = [
        M("sub", p, M("mul", lr, gp)) for p, gp in zip(params, gradients(loss, params), strict=True)
    ]
    labels = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    return (
        Graph([x, y, *params, lr], [loss, *new]),
        [rng.normal(size=(batch, sizes[0])), labels, *vals, np.float32(0.1)],
    )


def test_guide_forward_dense_relu():
    x, w, b = inp(0, (32, 784)), inp(1, (784, 32)), inp(2, (32,))
    g = Graph([x, w, b], [M("relu", M("add", M("matmul", x, w), b))])
    rng = np.random.default_rng(1)
    check_both(g, [rng.normal(size=(32, 784)), rng.normal(0, 0.1, (784, 32)), rng.normal(size=32)])


@pytest.mark.parametrize("sizes,batch", [([784, 32, 10], 32), ([50, 40, 24, 10], 13)])
def test_train_step(sizes, batch):
    g, vals = mlp_step(sizes, batch)
    check_both(g, vals)


def test_softmax_rows_and_column_sums():
    x = inp(0, (37, 9))
    g = Graph([x], [M("softmax", x), M("sum", M("exp", x), axes=0), M("log_softmax", x)])
    check_both(g, [np.random.default_rng(2).normal(size=(37, 9)) * 4])


def test_colsum_with_transposed_b_and_row_epilogue():
    a, b, r = inp(0, (33, 20)), inp(1, (17, 20)), inp(2, (33, 1))
    mm = M("matmul", a, b, transpose_b=True)
    g = Graph([a, b, r], [M("tanh", M("mul", mm, r)), M("sum", b, axes=1)])
    rng = np.random.default_rng(3)
    check_both(g, [rng.normal(size=i.shape) for i in g.inputs])


def test_multi_tensor_segments():
    w, gw, b, gb = inp(0, (40, 3)), inp(1, (40, 3)), inp(2, (3,)), inp(3, (3,))
    g = Graph(
        [w, gw, b, gb],
        [
            M("sub", w, M("mul", gw, 0.1)),
            M("sub", b, M("mul", gb, 0.1)),
            M("cast", M("greater", gb, 0.0), dtype="int32"),
        ],
    )
    rng = np.random.default_rng(4)
    check_both(g, [rng.normal(size=i.shape) for i in g.inputs])


# --- arg-extremes, gathered rows and the fit step's row kernel --------------------------------
TIES_AND_NANS = np.array(
    [
        [1.0, 3.0, 3.0, -2.0, -2.0, 0.0],  # ties: the first max (1) and the first min (3)
        [np.nan, 5.0, 1.0, 0.0, 9.0, 2.0],  # NaN first: it stays, index 0
        [2.0, np.nan, 7.0, -1.0, 7.0, 3.0],  # NaN later: skipped
        [-np.inf] * 6,
        [0.0] * 6,
        [4.0, 3.0, 2.0, 1.0, 0.5, np.inf],
        [np.nan] * 6,
    ]
)


def test_arg_extremes_with_ties_and_nan_in_one_row_kernel():
    x = inp(0, (7, 6))
    am, an = M("argmax", x, axis=1), M("argmin", x, axis=1)
    span = M("sub", M("cast", am, dtype="float32"), M("cast", an, dtype="float32"))
    g = Graph([x], [am, an, M("add", M("max", x, axes=1), span), M("sum", M("exp", x), axes=1)])
    assert len(compile_graph(g).launches) == 1
    check_both(g, [TIES_AND_NANS])
    got = run(g, [TIES_AND_NANS])
    np.testing.assert_array_equal(got[0], [1, 0, 2, 0, 0, 5, 0])
    np.testing.assert_array_equal(got[1], [3, 0, 3, 0, 0, 4, 0])


def test_int_argmax_and_argmax_over_a_leading_axis():
    x, k = inp(0, (5, 4, 3)), inp(1, (5, 3), "int32")
    g = Graph([x, k], [M("argmax", x, axis=1), M("argmin", k, axis=0), M("max", x, axes=1)])
    rng = np.random.default_rng(7)
    check_both(g, [rng.integers(-2, 3, (5, 4, 3)).astype(float), rng.integers(-2, 3, (5, 3))])


def fit_row(rows: int, batch: int, classes: int):
    """The fit step's head: softmax of the logits, clipped cross-entropy against the labels'
    rows picked by an index, accuracy, both reduced by a mask; and the logits' gradient."""
    logits, ys = inp(0, (batch, classes)), inp(1, (rows, classes))
    idx, mask = inp(2, (batch,), "int32"), inp(3, (batch,))
    yb = M("gather", ys, idx, axis=0)
    pred = M("softmax", logits)
    p = M("div", pred, M("sum", pred, axes=-1, keep_dims=True))
    p = M("clip_by_value", p, clip_value_min=1e-7, clip_value_max=1 - 1e-7)
    loss = M("sum", M("mul", M("neg", M("sum", M("mul", yb, M("log", p)), axes=-1)), mask))
    hit = M("equal", M("argmax", yb, axis=1), M("argmax", pred, axis=1))
    acc = M("sum", M("mul", M("cast", hit, dtype="float32"), mask))
    (dlogits,) = gradients(loss, [logits])
    return Graph([logits, ys, idx, mask], [loss, acc, dlogits])


def test_fit_row_kernel_with_gathered_labels_and_ties():
    g = fit_row(rows=40, batch=13, classes=6)
    rng = np.random.default_rng(8)
    logits = rng.normal(size=(13, 6))
    logits[:3, 4] = logits[:3, 1]  # tied predictions: the first (1) wins
    labels = np.eye(6)[rng.integers(0, 6, 40)]
    labels[:2] = [0, 0.5, 0, 0, 0.5, 0]  # tied soft labels
    idx = np.concatenate([[0, 1, 45, -3], rng.integers(0, 40, 9)]).astype(np.int32)  # clamped
    mask = np.where(np.arange(13) < 11, 1 / 11, 0.0)
    assert len(compile_graph(g).launches) == 1
    check_both(g, [logits, labels, idx, mask])


@pytest.mark.parametrize("batch", [13, 32, 203])
def test_cpu_row_kernel_gives_the_bits_of_one_row_per_work_item(batch):
    """The CPU layout (rows in vector lanes, exp and log inlined, one work-item keeping the
    partial totals) against the one row per work-item layout with pocl's builtins, bit for
    bit: partial blocks of rows (13, 203), partials of rows beyond the work-group (203),
    underflowing exps and clipped probabilities (the large logits)."""
    if not get_device().is_pocl:
        pytest.skip("the inlined exp and log repeat pocl's")
    g = fit_row(rows=40, batch=batch, classes=10)
    rng = np.random.default_rng(11)
    logits = rng.normal(size=(batch, 10)) * np.where(np.arange(batch) % 3 == 0, 40.0, 2.0)[:, None]
    labels = np.eye(10)[rng.integers(0, 10, 40)]
    labels[:3] = rng.dirichlet(np.ones(10), 3)  # soft labels
    vals = [logits, labels, rng.integers(0, 40, batch), np.full(batch, 1.0 / batch)]
    assert "exp_cpu" in compile_graph(g, device_kind="cpu").kernels[0].source
    for k, (a, b) in enumerate(
        zip(run(g, vals, kind="cpu"), run(g, vals, kind="gpu"), strict=True)
    ):
        np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32), err_msg=f"output {k}")


def test_cpu_exp_and_log_match_the_builtins():
    """CPU_PREAMBLE's exp and log, vectorised over work-items, against pocl's exp and log on
    a spread of all 2^32 inputs (every 4099th bit pattern, so every exponent) and specials."""
    import pyopencl as cl
    from clflow.kernels.common import CPU_PREAMBLE

    dev = get_device()
    if not dev.is_pocl:
        pytest.skip("the inlined exp and log repeat pocl's")
    x = np.arange(0, 1 << 32, 4099, dtype=np.uint64).astype(np.uint32).view(np.float32)
    special = np.float32([0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -104, 88.7])
    x = np.concatenate([x, np.resize(special, -x.size % 64)])  # no guard: whole work-groups
    src = CPU_PREAMBLE + "".join(
        f"__kernel void {k}(__global float* o, __global const float* x) {{\n"
        f"  const int g = get_global_id(0); o[2 * g] = {e}(x[g]); o[2 * g + 1] = {lg}(x[g]);\n}}\n"
        for k, e, lg in (("builtin", "exp", "log"), ("inlined", "exp_cpu", "log_cpu"))
    )
    xb = dev.upload(x)
    got = []
    for k in ("builtin", "inlined"):  # separate kernels: a call would keep the other scalar
        ob = dev.alloc(8 * x.size)
        kern = dev.kernel(src, k)
        kern.set_args(ob.buf, xb.buf)
        cl.enqueue_nd_range_kernel(dev.queue, kern, (x.size,), (64,))
        got.append(dev.download(ob, (x.size, 2)))
    (a, b) = got
    for name, i in (("exp", 0), ("log", 1)):
        bad = (a[:, i].view(np.uint32) != b[:, i].view(np.uint32)) & ~(
            np.isnan(a[:, i]) & np.isnan(b[:, i])
        )
        assert not bad.any(), f"{name} differs at {x[bad][:5]}"


def test_gathered_rows_read_in_place_by_every_kind_of_reader():
    x, w, idx = inp(0, (6, 4)), inp(1, (4, 3)), inp(2, (5,), "int32")
    xb = M("gather", x, idx, axis=0)
    outs = [
        M("exp", M("transpose", xb, perm=(1, 0))),
        M("sum", xb, axes=1),
        M("argmax", xb, axis=0),
        M("matmul", xb, w),
        M("tanh", M("reshape", M("slice", xb, begin=(1, 0), size=(3, 4)), shape=(3, 1, 4))),
        xb,
    ]
    g = Graph([x, w, idx], outs)
    rng = np.random.default_rng(9)
    check_both(g, [rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), np.array([3, -1, 5, 8, 0])])


def test_guide_fit_step_kernel_count():
    """The guide's model trained by fit(): the whole train step in few launches — five GEMMs
    and one row kernel for loss, accuracy and the logits' gradient (plus a copy of the batch's
    rows of x while the GEMM cannot read its A operand through the index)."""
    import clflow as tf

    tf.set_seed(0)
    model = tf.sequential(
        {
            "layers": [
                tf.layers.dense({"inputShape": [784], "units": 32, "activation": "relu"}),
                tf.layers.dense({"units": 10, "activation": "softmax"}),
            ]
        }
    )
    model.compile(
        {"optimizer": tf.train.sgd(0.01), "loss": "categoricalCrossentropy", "metrics": ["acc"]}
    )
    rng = np.random.default_rng(10)
    x = rng.normal(size=(80, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 80)]
    compiles = tf.engine.stats["compiles"]
    hist = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert tf.engine.stats["compiles"] - compiles <= 1  # the last, smaller batch was padded
    # The cache is kept in least-recently-used order: fit's step is the last step used.
    exe = [r for k, r in tf.engine._cache.items() if isinstance(k, tuple) and k[0] == "step"]
    exe = exe[-1].executable
    names = [exe.kernels[ln.kernel].name.rsplit("_", 1)[0] for ln in exe.launches]
    gemms = [n for n in names if n.startswith("gemm")]
    rest = [n for n in names if n not in gemms]
    assert rest == ["fused_reduce"], names
    assert len(gemms) == 5
    assert 0.0 <= hist.history["acc"][0] <= 1.0 and np.isfinite(hist.history["loss"][0])


@st.composite
def random_graph(draw):
    rows, cols = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    ins = [inp(0, (rows, cols)), inp(1, (rows, cols)), inp(2, (cols,)), inp(3, (cols, cols))]
    pool = list(ins[:3])
    for _ in range(draw(st.integers(2, 8))):
        a = draw(st.sampled_from([p for p in pool if p.shape == (rows, cols)]))
        kind = draw(st.sampled_from(["u", "b", "r", "m"]))
        if kind == "u":
            pool.append(M(draw(st.sampled_from(["neg", "tanh", "relu", "exp"])), a))
        elif kind == "b":
            pool.append(
                M(draw(st.sampled_from(["add", "mul", "sub"])), a, draw(st.sampled_from(pool)))
            )
        elif kind == "r":
            pool.append(
                M(
                    draw(st.sampled_from(["sum", "max"])),
                    a,
                    axes=draw(st.sampled_from([0, 1])),
                    keep_dims=True,
                )
            )
        else:
            pool.append(M("matmul", a, ins[3]))
    outs = draw(st.lists(st.sampled_from(pool[3:]), min_size=1, max_size=3))
    return Graph(ins, outs)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graph())
def test_random_graphs(g):
    rng = np.random.default_rng(5)
    vals = [rng.uniform(-1, 1, size=i.shape) for i in g.inputs]
    want = interpret(g, vals, precision="float64")
    got = run(g, vals)
    for k, (a, b) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3, err_msg=f"output {k}")


# --- golden sources --------------------------------------------------------------------------
def _canonical() -> dict[str, Graph]:
    x, w, b = inp(0, (32, 784)), inp(1, (784, 32)), inp(2, (32,))
    dense = Graph([x, w, b], [M("relu", M("add", M("matmul", x, w), b))])
    logits, labels = inp(0, (32, 10)), inp(1, (32, 10))
    ce = M(
        "div",
        M("sum", M("neg", M("sum", M("mul", labels, M("log_softmax", logits)), axes=-1))),
        32.0,
    )
    (dlogits,) = gradients(ce, [logits])
    row = Graph([logits, labels], [ce, dlogits])
    p, gp, q, gq, lr = inp(0, (16, 4)), inp(1, (16, 4)), inp(2, (4,)), inp(3, (4,)), inp(4, ())
    multi = Graph(
        [p, gp, q, gq, lr], [M("sub", p, M("mul", lr, gp)), M("sub", q, M("mul", lr, gq))]
    )
    return {
        "dense_bias_relu": dense,
        "softmax_ce_fwd_bwd": row,
        "multi_tensor_sgd": multi,
        "fit_loss_accuracy_grad": fit_row(rows=256, batch=32, classes=10),
    }


@pytest.mark.parametrize("name", sorted(_canonical()))
def test_golden_source(name):
    exe = compile_graph(_canonical()[name], device_kind="cpu")
    text = "\n".join(
        f"// launch {ln.label}\n{exe.kernels[ln.kernel].source}" for ln in exe.launches
    )
    path = GOLDEN / f"{name}.cl"
    if os.environ.get("CLFLOW_REGEN_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} missing: run with CLFLOW_REGEN_GOLDEN=1 to create it"
    assert text == path.read_text(), f"{name}: generated source differs from {path}"
    assert len(exe.launches) == 1
