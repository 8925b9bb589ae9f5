"""Property test: random expression graphs give the same values on the device and in the
float64 interpreter (elementwise ops with broadcasting, now and then a reduction, an
arg-extreme of an input or a view)."""

from __future__ import annotations

import numpy as np
from clflow.compiler.ir import Graph, IRError, Node
from clflow.compiler.ops import make
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Continuous ops only: floor / sign / comparisons could flip between float32 and float64.
UNARY = [
    "neg",
    "abs",
    "tanh",
    "sigmoid",
    "sin",
    "cos",
    "relu",
    "softplus",
    "elu",
    "square",
    "exp_tanh",
    "sqrt_abs",
    "leaky_relu",
]
BINARY = [
    "add",
    "sub",
    "mul",
    "maximum",
    "minimum",
    "squared_difference",
    "safe_div",
    "where_greater",
    "add_const",
]
SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 4), (3, 1), (1, 4), (4,), (2, 1, 4)]


def inp(k: int, shape) -> Node:
    return Node("input", (), {"index": k, "role": "input"}, tuple(shape), "float32")


def apply_unary(op: str, x: Node) -> Node:
    if op == "exp_tanh":
        return make("exp", [make("tanh", [x])])
    if op == "sqrt_abs":
        return make("sqrt", [make("add", [make("abs", [x]), 0.25])])
    if op == "square":  # bounded so that chains of squares stay finite
        return make("square", [make("tanh", [x])])
    return make(op, [x])


def apply_binary(op: str, a: Node, b: Node) -> Node:
    if op == "safe_div":
        return make("div", [a, make("add", [make("abs", [b]), 0.5])])
    if op == "where_greater":
        return make("where", [make("greater", [a, b]), a, make("mul", [b, 0.5])])
    if op == "add_const":
        return make("add", [make("mul", [a, -1.25]), 0.75])
    return make(op, [a, b])


@st.composite
def graphs(draw):
    n_in = draw(st.integers(1, 3))
    ins = [inp(k, draw(st.sampled_from(SHAPES))) for k in range(n_in)]
    pool = list(ins)
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(
            st.sampled_from(["unary"] * 4 + ["binary"] * 5 + ["reduce", "view"] + ["arg"] * 2)
        )
        x = draw(st.sampled_from(pool))
        try:
            if kind == "unary":
                y = apply_unary(draw(st.sampled_from(UNARY)), x)
            elif kind == "binary":
                y = apply_binary(draw(st.sampled_from(BINARY)), x, draw(st.sampled_from(pool)))
            elif kind == "reduce" and x.shape:
                axes = draw(st.lists(st.integers(0, len(x.shape) - 1), min_size=1, unique=True))
                y = make(
                    draw(st.sampled_from(["sum", "max", "min"])),
                    [x],
                    axes=tuple(axes),
                    keep_dims=draw(st.booleans()),
                )
            elif kind == "arg" and any(i.shape for i in ins):
                # Of an input only: a computed value could tie in float32 and not in float64.
                x = draw(st.sampled_from([i for i in ins if i.shape]))
                op = draw(st.sampled_from(["argmax", "argmin"]))
                arg = make(op, [x], axis=draw(st.integers(0, len(x.shape) - 1)))
                y = make("cast", [arg], dtype="float32")
            elif kind == "view" and len(x.shape) >= 2:
                perm = draw(st.permutations(range(len(x.shape))))
                y = make("transpose", [x], perm=tuple(perm))
            else:
                y = apply_unary("tanh", x)
        except IRError:  # shapes that do not broadcast: try something else
            continue
        pool.append(y)
    outs = [pool[-1]] if pool[-1] not in ins else [apply_unary("neg", pool[-1])]
    if len(pool) > n_in + 1 and draw(st.booleans()):
        outs.append(draw(st.sampled_from(pool[n_in:-1])))  # an intermediate as a second output
    seed = draw(st.integers(0, 2**31 - 1))
    return Graph(ins, outs), seed


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(graphs())
def test_random_graph_device_matches_interpreter(check_graph, case):
    graph, seed = case
    rng = np.random.default_rng(seed)
    vals = [rng.uniform(-2, 2, size=n.shape).astype(np.float32) for n in graph.inputs]
    check_graph(graph, vals)
