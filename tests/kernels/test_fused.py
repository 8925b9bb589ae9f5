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


def run(graph: Graph, vals: list[np.ndarray], passes=None) -> list[np.ndarray]:
    dev = get_device()
    runner = dev.prepare(compile_graph(graph, device_kind=dev.kind, passes=passes))
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
    return {"dense_bias_relu": dense, "softmax_ce_fwd_bwd": row, "multi_tensor_sgd": multi}


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
