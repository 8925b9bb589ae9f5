"""Passes (simplify, decompose, fusion) against the interpreter, and kernel counts per step.

Everything here runs without OpenCL: the interpreter evaluates fused bodies, and lowering only
generates kernel sources.
"""

from __future__ import annotations

import numpy as np
import pytest
from clflow.compiler.autodiff import gradients
from clflow.compiler.codegen import view_index
from clflow.compiler.executable import BufArg
from clflow.compiler.fusion import kernel_count
from clflow.compiler.interpreter import interpret
from clflow.compiler.ir import Graph, Node
from clflow.compiler.ops import const, make
from clflow.compiler.passes.simplify import simplify
from clflow.compiler.pipeline import PASSES, compile_graph
from clflow.compiler.view import View, apply_movement
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def M(op, *ins, **attrs):
    return make(op, ins, **attrs)


def inp(k: int, shape, dtype: str = "float32", name: str | None = None) -> Node:
    x = Node("input", (), {"index": k, "role": "input"}, tuple(shape), dtype)
    x.name = name
    return x


def run_passes(g: Graph, passes=None) -> Graph:
    for p in PASSES if passes is None else passes:
        g = p(g)
        g.verify()
    return g


def mlp_step(sizes: list[int], batch: int = 8) -> tuple[Graph, list[np.ndarray]]:
    """The guide's Core API train step: relu MLP, softmax cross-entropy (mean), SGD."""
    rng = np.random.default_rng(0)
    x, y = inp(0, (batch, sizes[0]), name="x"), inp(1, (batch, sizes[-1]), name="y")
    params, values = [], []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        w, bias = inp(len(params) + 2, (a, b)), inp(len(params) + 3, (b,))
        params += [w, bias]
        values += [rng.normal(0, 0.3, (a, b)), rng.normal(0, 0.3, b)]
    lr = inp(len(params) + 2, (), name="lr")
    h = x
    for i in range(0, len(params), 2):
        h = M("add", M("matmul", h, params[i]), params[i + 1])
        if i + 2 < len(params):
            h = M("relu", h)
    ls = M("log_softmax", h)
    loss = M("div", M("sum", M("neg", M("sum", M("mul", y, ls), axes=-1))), float(batch))
    grads = gradients(loss, params)
    new = [M("sub", p, M("mul", lr, gp)) for p, gp in zip(params, grads, strict=True)]
    g = Graph([x, y, *params, lr], [loss, *new], "train_step")
    labels = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    return g, [rng.normal(size=(batch, sizes[0])), labels, *values, np.float32(0.1)]


def fit_step(sizes: list[int], batch: int = 8, rows: int = 20) -> tuple[Graph, list[np.ndarray]]:
    """fit()'s train step as api/training.py records it: the batch's rows of x and y picked
    by an int32 index, softmax output, clipped categorical cross-entropy and accuracy reduced
    by a mask of 1/batch, SGD updates."""
    rng = np.random.default_rng(5)
    xs, ys = inp(0, (rows, sizes[0]), name="x"), inp(1, (rows, sizes[-1]), name="y")
    idx = inp(2, (batch,), "int32", name="idx")
    params, values = [], []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        params += [inp(len(params) + 3, (a, b)), inp(len(params) + 4, (b,))]
        values += [rng.normal(0, 0.3, (a, b)), rng.normal(0, 0.3, b)]
    mask, lr = inp(len(params) + 3, (batch,), name="mask"), inp(len(params) + 4, (), name="lr")
    xb, yb = M("gather", xs, idx, axis=0), M("gather", ys, idx, axis=0)
    h = xb
    for i in range(0, len(params), 2):
        h = M("add", M("matmul", h, params[i]), params[i + 1])
        h = M("relu", h) if i + 2 < len(params) else h
    pred = M("softmax", h)
    p = M("div", pred, M("sum", pred, axes=-1, keep_dims=True))
    p = M("clip_by_value", p, clip_value_min=1e-7, clip_value_max=1 - 1e-7)
    per = M("neg", M("sum", M("mul", yb, M("log", p)), axes=-1))
    loss = M("sum", M("mul", per, mask))
    hit = M("equal", M("argmax", yb, axis=1), M("argmax", pred, axis=1))
    acc = M("sum", M("mul", M("cast", hit, dtype="float32"), mask))
    grads = gradients(loss, params)
    new = [M("sub", q, M("mul", lr, gq)) for q, gq in zip(params, grads, strict=True)]
    g = Graph([xs, ys, idx, *params, mask, lr], [loss, acc, *new], "fit_step")
    labels = np.eye(sizes[-1])[rng.integers(0, sizes[-1], rows)]
    ids = rng.integers(0, rows, batch).astype(np.int32)
    weights = np.full(batch, 1.0 / batch)
    weights[-2:] = 0.0  # padding rows of a last, smaller batch
    vals = [rng.normal(size=(rows, sizes[0])), labels, ids, *values, weights, np.float32(0.1)]
    return g, vals


def launches(g: Graph, passes=None) -> list[str]:
    exe = compile_graph(g, passes=passes)
    return [exe.kernels[ln.kernel].name for ln in exe.launches]


def close(a: list, b: list, rtol=1e-4, atol=1e-5) -> None:
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"output {k}")


# --- kernel counts ---------------------------------------------------------------------------
def test_guide_forward_dense_relu_is_one_kernel():
    x, w, b = inp(0, (32, 784)), inp(1, (784, 32)), inp(2, (32,))
    g = Graph([x, w, b], [M("relu", M("add", M("matmul", x, w), b))])
    assert len(launches(g, passes=[])) == 3
    assert len(launches(g)) == 1
    assert "fused_dense[matmul+add+relu]" in run_passes(g).dump()


def test_m1_train_step_is_six_kernels():
    g, _ = mlp_step([784, 32, 10], batch=32)
    assert len(launches(g, passes=[])) > 25
    names = launches(g)
    assert len(names) == 6, names
    assert sum(n.startswith("gemm") for n in names) == 5


def test_m2_train_step_is_nine_kernels():
    g, _ = mlp_step([784, 512, 512, 10], batch=32)
    fused = run_passes(g)
    assert kernel_count(fused) == 9
    assert len(launches(g)) == 9  # one launch per group: the GEMMs pack nothing separately


def test_fit_step_loss_accuracy_and_gradient_share_one_row_kernel():
    """The two argmaxes of the accuracy, the label gather and the mask's gradient run in the
    softmax / cross-entropy row kernel: besides the five GEMMs only that kernel is launched."""
    g, _ = fit_step([12, 7, 5])
    names = launches(g)
    gemms = [n for n in names if n.startswith("gemm")]
    rest = [n.rsplit("_", 1)[0] for n in names if n not in gemms]
    assert len(gemms) == 5, names
    assert rest == ["fused_reduce"], names
    assert kernel_count(run_passes(g)) == len(names)


def test_fit_step_fused_equals_unfused_with_ties():
    """Tied logits (equal columns of the last layer) and tied labels: argmax takes the first."""
    g, vals = fit_step([12, 7, 5])
    w, b = vals[-4], vals[-3]
    w[:, 3], b[3] = w[:, 1], b[1]  # logits 1 and 3 equal in every row
    vals[1][:4] = [[0.0, 0.5, 0.0, 0.5, 0.0]] * 4  # soft labels tied at 1 and 3
    vals[2][:4] = [0, 1, 2, 3]
    want = interpret(g, vals, precision="float64")
    got = interpret(run_passes(g), vals, precision="float64")
    close(got, want, rtol=1e-12, atol=1e-12)


def test_gathered_x_is_read_by_the_gemms_through_its_index(monkeypatch):
    """No copy of x[idx]: the forward GEMM and the weight-gradient GEMM read x itself with the
    index bound as IA (plan_gemm's ``gather_a``)."""
    import clflow.kernels.gemm as kgemm

    real, rows = kgemm.plan_gemm, []

    def plan_gemm(m, n, k, *, gather_a=None, **kw):
        if gather_a is not None:
            rows.append((gather_a, kw["trans_a"]))
        return real(m, n, k, gather_a=gather_a, **kw)

    monkeypatch.setattr(kgemm, "plan_gemm", plan_gemm)  # the lowerer imports it at each call
    exe = compile_graph(fit_step([12, 7, 5], rows=20)[0])
    names = [exe.kernels[ln.kernel].name for ln in exe.launches]
    assert len(names) == 6 and not any(n.startswith("copy") for n in names), names
    assert sorted(rows) == [(20, False), (20, True)]  # x[idx] @ W1 and x[idx]^T @ dH
    x_slot, idx_slot = exe.inputs[0], exe.inputs[2]
    gathered = [ln for ln in exe.launches if BufArg(idx_slot) in ln.args]
    gemms = [ln for ln in gathered if exe.kernels[ln.kernel].name.startswith("gemm")]
    assert len(gemms) == 2 and all(BufArg(x_slot) in ln.args for ln in gemms)


def test_argmax_argmin_join_sibling_reductions():
    """Reductions over the same rows of one input form one row kernel with the work after."""
    x = inp(0, (6, 5))
    mx = M("max", x, axes=1)
    am, an = M("argmax", x, axis=1), M("argmin", x, axis=1)
    spread = M("sub", M("cast", am, dtype="float32"), M("cast", an, dtype="float32"))
    g = Graph([x], [M("add", mx, spread), M("sum", M("exp", x), axes=1), am])
    fused = run_passes(g)
    assert kernel_count(fused) == 1
    assert len(launches(g)) == 1
    v = np.array(
        [
            [1.0, 3.0, 3.0, -2.0, -2.0],  # ties: first max (1), first min (3)
            [np.nan, 5.0, 1.0, 0.0, 9.0],  # NaN first: index 0 for both
            [2.0, np.nan, 7.0, -1.0, 7.0],  # NaN later is skipped
            [-np.inf, -np.inf, -np.inf, -np.inf, -np.inf],
            [0.0, 0.0, 0.0, 0.0, 0.0],
            [4.0, 3.0, 2.0, 1.0, 0.5],
        ]
    )
    want = interpret(g, [v], "float64")
    np.testing.assert_array_equal(want[2], [1, 0, 2, 0, 0, 0])
    close(interpret(fused, [v], "float64"), want, 0, 0)


def test_sibling_reduction_through_elementwise_work():
    """binary accuracy beside binary cross-entropy: both sums walk the rows of pred."""
    p, y = inp(0, (4, 3)), inp(1, (4, 3))
    q = M("clip_by_value", p, clip_value_min=0.1, clip_value_max=0.9)
    ce = M("sum", M("mul", y, M("log", q)), axes=1)
    hit = M("equal", y, M("cast", M("greater", p, 0.5), dtype="float32"))
    hit = M("cast", hit, dtype="float32")
    acc = M("sum", hit, axes=1)
    g = Graph([p, y], [M("sum", ce), M("sum", acc)])
    fused = run_passes(g)
    assert kernel_count(fused) == 1
    rng = np.random.default_rng(6)
    vals = [rng.uniform(0, 1, (4, 3)), (rng.uniform(size=(4, 3)) > 0.5).astype(float)]
    close(interpret(fused, vals, "float64"), interpret(g, vals, "float64"), 1e-12, 1e-12)


# --- indexed views: gather(x, idx) read in place -------------------------------------------
def _read(view: View, base: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Evaluate the C index expression of every element of ``view`` in Python."""
    out = np.empty(view.shape, base.dtype)
    names = [f"c{k}" for k in range(len(view.shape))]
    text = view_index(view, names, lambda ix, i: f"IDX[{i}]")
    env = {"IDX": idx, "clamp": lambda v, lo, hi: min(max(int(v), lo), hi)}
    for pos in np.ndindex(*view.shape):
        out[pos] = base[eval(text, env, dict(zip(names, pos, strict=True)))]  # noqa: S307
    return out


@pytest.mark.parametrize(
    "op,attrs,ref",
    [
        (None, {}, lambda a: a),
        ("transpose", {"perm": (1, 0)}, lambda a: a.T),
        ("slice", {"begin": (1, 1), "size": (3, 2)}, lambda a: a[1:4, 1:3]),
        ("broadcast_to", {}, lambda a: np.broadcast_to(a[:, None, :], (5, 2, 4))),
        ("reverse", {"axes": (0, 1)}, lambda a: a[::-1, ::-1]),
        ("reshape", {}, lambda a: a.reshape(5, 1, 4)),
    ],
)
def test_indexed_view_follows_movement_ops(op, attrs, ref):
    base = np.arange(24.0)  # a [6, 4] source, gathered by 5 indices (out of range clamps)
    idx = np.array([3, -2, 5, 9, 0])
    v = View.contiguous((6, 4)).gather(0, base=7, idx=View.contiguous((5,)))
    if op == "broadcast_to":
        v = apply_movement(v.reshape((5, 1, 4)), op, {}, (5, 2, 4))
    elif op == "reshape":
        v = apply_movement(v, op, {}, (5, 1, 4))
    elif op is not None:
        shape = ref(np.zeros((5, 4))).shape
        v = apply_movement(v, op, attrs, shape)
    want = ref(base.reshape(6, 4)[np.clip(idx, 0, 5)])
    np.testing.assert_array_equal(_read(v, base, idx), want)
    lo, hi = v.span()
    assert 0 <= lo and hi <= 23


def test_indexed_view_of_gathered_columns_and_broadcast_index():
    base = np.arange(12.0)  # [3, 4], columns picked by one index, then broadcast
    v = View.contiguous((3, 4)).gather(1, base=1, idx=View.contiguous((1,)))
    v = v.broadcast((2, 3, 6))
    want = np.broadcast_to(base.reshape(3, 4)[:, [2]], (2, 3, 6))
    np.testing.assert_array_equal(_read(v, base, np.array([2])), want)
    assert v.reshape((6, 6)) is None  # not a unit-axis reshape: needs a copy


# --- results equal the unfused graph ---------------------------------------------------------
@pytest.mark.parametrize("sizes", [[12, 7, 5], [9, 16, 8, 4]])
def test_train_step_fused_equals_interpreter(sizes):
    g, vals = mlp_step(sizes)
    want = interpret(g, vals, precision="float64")
    got = interpret(run_passes(g), vals, precision="float64")
    close(got, want, rtol=1e-9, atol=1e-12)


def test_softmax_alone_is_one_reduce_kernel():
    x = inp(0, (6, 10))
    g = Graph([x], [M("softmax", x)])
    fused = run_passes(g)
    assert [n.attrs["kind"] for n in fused.outputs] == ["reduce"]
    v = np.random.default_rng(1).normal(size=(6, 10)) * 5
    close(interpret(fused, [v], "float64"), interpret(g, [v], "float64"), 1e-12, 1e-12)


@pytest.mark.parametrize("rows,lanes", [(1, 1), (3, 4), (13, 8), (200, 8)])
def test_cpu_row_kernels_keep_rows_in_lanes(rows, lanes):
    """On CPUs a work-item takes ``lanes`` rows in loops over them, with exp and log inlined
    (a grand total: one work-item takes all the rows, no barrier); GPUs keep a row per item."""
    x = inp(0, (rows, 10))
    grand = M("sum", M("sum", M("log_softmax", x), axes=-1))
    graphs = {False: Graph([x], [M("softmax", x)]), True: Graph([x], [grand])}
    for total, g in graphs.items():
        cpu, gpu = compile_graph(g, device_kind="cpu"), compile_graph(g, device_kind="gpu")
        (lc,), (lg,) = cpu.launches, gpu.launches
        text = cpu.kernels[lc.kernel].source.split("__kernel")[1]
        assert f"for (int l = 0; l < {lanes}; ++l) {{" in text and "exp_cpu(" in text
        assert " exp(" not in text and "barrier" not in text
        blocks = -(-rows // lanes)
        assert lc.global_size == ((1,) if total else (-(-blocks // 64) * 64,))
        text = gpu.kernels[lg.kernel].source.split("__kernel")[1]
        assert "exp_cpu" not in text and "for (int l" not in text
        assert ("barrier" in text) == total
        assert lg.global_size == ((64,) if total else (-(-rows // 64) * 64,))


def test_independent_updates_share_one_multi_tensor_kernel():
    """Adam-like updates of two parameters: no GEMM to ride on, one segmented kernel."""
    w, gw, b, gb, m = inp(0, (5, 3)), inp(1, (5, 3)), inp(2, (3,)), inp(3, (3,)), inp(4, (3,))
    new_m = M("add", M("mul", m, 0.9), M("mul", gb, 0.1))
    outs = [
        M("sub", w, M("mul", gw, 0.5)),
        M("sub", b, M("div", new_m, M("add", M("sqrt", M("square", gb)), 1e-7))),
        new_m,
    ]
    g = Graph([w, gw, b, gb, m], outs)
    fused = run_passes(g)
    assert kernel_count(fused) == 1
    assert len(launches(g)) == 1
    rng = np.random.default_rng(2)
    vals = [rng.normal(size=i.shape) for i in g.inputs]
    close(interpret(fused, vals, "float64"), interpret(g, vals, "float64"), 1e-12, 1e-12)


def test_bias_gradient_rides_with_dw_gemm():
    x, dy = inp(0, (8, 5)), inp(1, (8, 3))
    dw = M("matmul", x, dy, transpose_a=True)
    db = M("sum", dy, axes=0)
    g = Graph([x, dy], [dw, db])
    assert len(launches(g)) == 1
    fused = run_passes(g)
    rng = np.random.default_rng(3)
    vals = [rng.normal(size=(8, 5)), rng.normal(size=(8, 3))]
    close(interpret(fused, vals, "float64"), [vals[0].T @ vals[1], vals[1].sum(0)], 1e-12, 1e-12)


# --- simplify --------------------------------------------------------------------------------
def test_simplify_identities_and_cse():
    x = inp(0, (4, 3))
    a = M("mul", M("add", x, 0.0), 1.0)
    t = M("transpose", M("transpose", x))
    r = M("reshape", M("reshape", x, shape=(12,)), shape=(3, 4))
    c = M("cast", x, dtype="float32")
    dup = M("add", M("exp", x), M("exp", x))
    g = simplify(Graph([x], [a, t, r, c, dup]))
    assert g.outputs[0] is x and g.outputs[1] is x and g.outputs[3] is x
    assert g.outputs[2].op == "reshape" and g.outputs[2].inputs[0] is x
    e = g.outputs[4].inputs
    assert e[0] is e[1]  # one exp


def test_simplify_keeps_mul_by_zero_and_folds_constants():
    x = inp(0, (3,))
    zero = M("mul", x, 0.0)  # NaN * 0 is NaN: not folded to 0
    seed = M("broadcast_to", M("reshape", M("mul", const(1.0), const(0.5)), shape=(1,)), shape=(3,))
    g = simplify(Graph([x], [zero, M("mul", seed, x)]))
    assert g.outputs[0].op == "mul"
    out = g.outputs[1]
    assert out.op == "mul" and {i.op for i in out.inputs} == {"input", "const"}
    v = np.array([np.nan, 1.0, -2.0])
    close(interpret(g, [v], "float64"), [v * 0.0, v * 0.5], 0, 0)


def test_dump_shows_group_and_body():
    g, _ = mlp_step([6, 4, 3])
    text = run_passes(g).dump()
    assert "fused_reduce.0[" in text and "fused_dense[matmul+add+relu]" in text
    assert "    |   %" in text  # the body's own lines


# --- random graphs ---------------------------------------------------------------------------
UNARY = ["neg", "exp", "tanh", "relu", "sigmoid", "square"]
BINARY = ["add", "sub", "mul", "maximum"]


@st.composite
def random_graph(draw):
    """A random DAG of elementwise ops, reductions (keep_dims), arg-extremes and a matmul."""
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    ins = [inp(k, (rows, cols)) for k in range(2)] + [inp(2, (cols,)), inp(3, (cols, cols))]
    pool = list(ins[:3])
    for _ in range(draw(st.integers(2, 9))):
        kind = draw(st.sampled_from(["u", "b", "r", "m", "a"]))
        full = [p for p in pool if p.shape == (rows, cols)]
        a = draw(st.sampled_from(full))
        if kind == "u":
            pool.append(M(draw(st.sampled_from(UNARY)), a))
        elif kind == "b":
            pool.append(M(draw(st.sampled_from(BINARY)), a, draw(st.sampled_from(pool))))
        elif kind == "r":
            op = draw(st.sampled_from(["sum", "max"]))
            pool.append(M(op, a, axes=draw(st.sampled_from([0, 1])), keep_dims=True))
        elif kind == "a":  # an arg-extreme, as a float column or row to compute on
            ax = draw(st.sampled_from([0, 1]))
            arg = M(draw(st.sampled_from(["argmax", "argmin"])), a, axis=ax)
            shape = (rows, 1) if ax == 1 else (1, cols)
            pool.append(M("reshape", M("cast", arg, dtype="float32"), shape=shape))
        else:
            pool.append(M("matmul", a, ins[3]))
    outs = draw(st.lists(st.sampled_from(pool[3:]), min_size=1, max_size=3))
    return Graph(ins, outs), (rows, cols)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graph())
def test_random_graphs_fused_equal_unfused(case):
    g, (rows, cols) = case
    rng = np.random.default_rng(4)
    vals = [rng.normal(size=i.shape) for i in g.inputs]
    want = interpret(g, vals, precision="float64")
    fused = run_passes(g)
    close(interpret(fused, vals, precision="float64"), want, 1e-9, 1e-9)
    assert compile_graph(g).launches  # lowering accepts every fused group
