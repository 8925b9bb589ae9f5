"""Fixtures for the kernel tests: the OpenCL device and a helper running a graph on it."""

from __future__ import annotations

import numpy as np
import pytest
from clflow.compiler.interpreter import interpret
from clflow.compiler.ir import Graph, Node
from clflow.compiler.ops import NP_DTYPE
from clflow.compiler.pipeline import compile_graph
from clflow.runtime import get_device


def inp(k: int, shape: tuple[int, ...], dtype: str = "float32") -> Node:
    """Graph input number ``k``."""
    return Node("input", (), {"index": k, "role": "input"}, tuple(shape), dtype)


def run_graph(graph: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Compile ``graph``, run it on the default device and download every output."""
    dev = get_device()
    runner = dev.prepare(compile_graph(graph, device_kind=dev.kind))
    bufs = [
        dev.upload(np.ascontiguousarray(a, NP_DTYPE[n.dtype]))
        for a, n in zip(inputs, graph.inputs, strict=True)
    ]
    outs = runner.run(bufs)
    return [
        dev.download(b, o.shape, NP_DTYPE[o.dtype])
        for b, o in zip(outs, graph.outputs, strict=True)
    ]


def check_graph(
    graph: Graph, inputs: list[np.ndarray], rtol: float = 1e-3, atol: float = 1e-4
) -> list[np.ndarray]:
    """Device (float32) against the interpreter (float64); exact for int and bool outputs."""
    got = run_graph(graph, inputs)
    want = interpret(graph, inputs, precision="float64")
    for k, (g, w, o) in enumerate(zip(got, want, graph.outputs, strict=True)):
        assert g.shape == w.shape == o.shape, f"output {k}: shapes {g.shape} vs {w.shape}"
        if o.dtype == "float32":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"output {k}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"output {k}")
    return got


@pytest.fixture(name="run_graph")
def run_graph_fixture():
    """``run_graph(graph, inputs)``: device results as numpy arrays."""
    return run_graph


@pytest.fixture(name="check_graph")
def check_graph_fixture():
    """``check_graph(graph, inputs)``: device results checked against the interpreter."""
    return check_graph


@pytest.fixture
def device():
    """The default device, with every earlier test's work finished."""
    dev = get_device()
    dev.finish()
    return dev
