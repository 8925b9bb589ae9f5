"""GEMM renderer: every plan run on the OpenCL device against a float64 numpy reference."""

import numpy as np
import pyopencl as cl
import pytest
from clflow.kernels.gemm import DEFAULT_PARAMS, GemmEpilogue, plan_gemm, set_tuned_params

MF = cl.mem_flags


@pytest.fixture(scope="module")
def cl_env():
    ctx = cl.create_some_context(interactive=False)
    return ctx, cl.CommandQueue(ctx)


def _buffer(ctx, array: np.ndarray) -> cl.Buffer:
    if array.size == 0:  # OpenCL has no empty buffers; the kernel never reads it (K == 0)
        return cl.Buffer(ctx, MF.READ_ONLY, 4)
    return cl.Buffer(ctx, MF.READ_ONLY | MF.COPY_HOST_PTR, hostbuf=np.ascontiguousarray(array))


def run_plan(cl_env, plan, m, n, a, b, extras=(), named=None, read=("C",)):
    """Bind buffers by the plan's argument names, enqueue its launches, read C back.

    ``named`` binds more arrays by name (IA, F0, ...); ``read`` lists the float outputs to
    return (C is [m, n], S is [n]); one output comes back bare, several as a tuple.
    """
    ctx, queue = cl_env
    bufs = {
        "A": _buffer(ctx, a),
        "B": _buffer(ctx, b),
        "C": cl.Buffer(ctx, MF.READ_WRITE, m * n * 4),
        "S": cl.Buffer(ctx, MF.READ_WRITE, n * 4),
    }
    bufs.update({f"E{i}": _buffer(ctx, e) for i, e in enumerate(extras)})
    bufs.update({name: _buffer(ctx, value) for name, value in (named or {}).items()})
    bufs.update({name: cl.Buffer(ctx, MF.READ_WRITE, size) for name, size in plan.temps.items()})
    for launch in plan.launches:
        kernel = cl.Kernel(cl.Program(ctx, launch.source).build(), launch.name)
        kernel.set_args(*(bufs[arg] for arg in launch.args))
        cl.enqueue_nd_range_kernel(queue, kernel, launch.global_size, launch.local_size)
    outs = []
    for name in read:
        out = np.empty((m, n) if name == "C" else (n,), np.float32)
        cl.enqueue_copy(queue, out, bufs[name])
        outs.append(out)
    queue.finish()
    return outs[0] if len(outs) == 1 else tuple(outs)


def operands(m, n, k, trans_a, trans_b, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    ref = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)
    return a, b, ref


def assert_close(got, ref):
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-4 * scale)


SHAPES = [  # (m, n, k)
    (1, 1, 1),
    (7, 33, 5),
    (33, 7, 1000),
    (32, 32, 784),  # small MLP forward
    (784, 32, 32),  # dW = X^T @ dY
    (100, 10, 32),
    (40, 48, 20),  # N multiple of 16, not 32
    (200, 70, 300),  # packs B, and A when transposed
    (130, 256, 130),  # 1 KiB pitch: packed B
]


@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_cpu_matches_numpy(cl_env, shape, trans_a, trans_b):
    m, n, k = shape
    a, b, ref = operands(m, n, k, trans_a, trans_b)
    plan = plan_gemm(m, n, k, trans_a=trans_a, trans_b=trans_b)
    assert plan.flops == 2 * m * n * k
    assert_close(run_plan(cl_env, plan, m, n, a, b), ref)


def test_cpu_large_square_is_one_launch(cl_env):
    a, b, ref = operands(1000, 1000, 1000, False, False)
    plan = plan_gemm(1000, 1000, 1000)
    assert [launch.args for launch in plan.launches] == [("A", "B", "C")] and plan.temps == {}
    assert_close(run_plan(cl_env, plan, 1000, 1000, a, b), ref)


NN, TN, NT, TT = (False, False), (True, False), (False, True), (True, True)


@pytest.mark.parametrize(
    "params, trans",
    [
        ({"kb": 16, "wg": 4}, NN),  # k-blocked B panel: barriers in the k loop, ragged last block
        ({"kb": 16, "wg": 4}, TT),
        ({"walk": "m", "wg": 3, "tn": 16}, TN),  # work-groups walk down M first (grid swapped)
        ({"kb": 7, "walk": "m", "unroll": 1}, NT),
        ({"tm": 6, "tn": 64, "wg": 3}, NN),  # the wide tile of big GEMMs
        ({"tm": 6, "tn": 64, "wg": 3}, TT),
        ({"tm": 5, "tn": 48, "kb": 16}, TN),
        ({"big_b": 1, "tm_big": 12, "tn_big": 16, "wg_big": 2}, NT),  # every B counts as big
    ],
    ids=["kb16", "kb16_tt", "walk_m", "kb7_walk_m", "6x64", "6x64_tt", "5x48_kb16", "big12x16"],
)
def test_cpu_params_variants_match_numpy(cl_env, trans, params):
    m, n, k = 45, 50, 37
    a, b, ref = operands(m, n, k, *trans)
    plan = plan_gemm(m, n, k, trans_a=trans[0], trans_b=trans[1], params=params)
    source = plan.launches[0].source
    assert f"#define KB {min(params.get('kb', k), k)}" in source
    assert f"#define TM {params.get('tm', params.get('tm_big', 8))}" in source
    assert_close(run_plan(cl_env, plan, m, n, a, b), ref)


def test_kblocked_work_groups_with_padding_rows(cl_env):
    """pocl 3.0 once lost whole work-groups when padding work-items (i0 >= M) skipped the
    work between the barriers of a k-blocked loop (here K = 2 * KB, 13 row blocks in 4s)."""
    a, b, ref = operands(100, 512, 64, False, False)
    plan = plan_gemm(100, 512, 64, params={"kb": 32, "wg": 4})
    assert plan.launches[0].local_size == (1, 4) and plan.launches[0].global_size == (16, 16)
    assert_close(run_plan(cl_env, plan, 100, 512, a, b), ref)


@pytest.mark.parametrize("kind", ["cpu", "gpu"])
@pytest.mark.parametrize(
    "n, params",
    [(45, {}), (45, {"kb": 8}), (64, {})],
    ids=["local_panel", "kblocked", "direct_b"],
)
def test_colsum_rides_with_the_gemm(cl_env, kind, n, params):
    """S[j] = colsum(sum_k op(B)[k][j]): the bias gradient written beside dW."""
    m, k = 20, 30
    params = params if kind == "cpu" else {}
    a, b, ref = operands(m, n, k, True, False)
    lr = np.array([0.5], np.float32)
    bias = np.linspace(-1, 1, n).astype(np.float32)
    cs = GemmEpilogue(("col", "scalar"), "e0 - e1 * acc")
    plan = plan_gemm(m, n, k, trans_a=True, colsum=cs, device_kind=kind, params=params or None)
    assert plan.launches[-1].args[-3:] == ("S", "F0", "F1")
    if kind == "cpu":  # n = 64 has a 256-byte pitch: B read in place, no __local copy
        assert ("__local float Bl" in plan.launches[0].source) == (n == 45)
    named = {"F0": bias, "F1": lr}
    c, s = run_plan(cl_env, plan, m, n, a, b, named=named, read=("C", "S"))
    assert_close(c, ref)
    np.testing.assert_allclose(s, bias - 0.5 * b.astype(np.float64).sum(0), rtol=1e-4, atol=1e-4)


# --- gathered A: op(A) read through the row index IA -----------------------------------------


def gathered_operands(m, n, k, trans_a, rows, seed=3):
    """A stored with ``rows`` rows, an index (some out of range: clamped), B and the product."""
    rng = np.random.default_rng(seed)
    length = m if trans_a else k  # each stored row of A is a row of op(A), or a column
    a = rng.standard_normal((rows, length)).astype(np.float32)
    idx = rng.integers(-2, rows + 2, size=k if trans_a else m).astype(np.int32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    picked = a[np.clip(idx, 0, rows - 1)].astype(np.float64)  # numpy's gather semantics
    return a, idx, b, (picked.T if trans_a else picked) @ b


@pytest.mark.parametrize("kind", ["cpu", "gpu"])
@pytest.mark.parametrize("trans_a", [False, True], ids=["rows", "trans"])
@pytest.mark.parametrize("shape", [(1, 1, 1), (37, 45, 29), (9, 33, 300)])
def test_gathered_a_matches_numpy(cl_env, shape, trans_a, kind):
    m, n, k = shape
    rows = 2 * max(m, k) + 5
    a, idx, b, ref = gathered_operands(m, n, k, trans_a, rows)
    plan = plan_gemm(m, n, k, trans_a=trans_a, gather_a=rows, device_kind=kind)
    assert len(plan.launches) == 1 and plan.launches[0].args == ("A", "IA", "B", "C")
    assert f"#define ROWS {rows}" in plan.launches[0].source
    assert_close(run_plan(cl_env, plan, m, n, a, b, named={"IA": idx}), ref)


@pytest.mark.parametrize("trans_a", [False, True], ids=["rows", "trans"])
def test_gathered_a_with_epilogue_colsum_and_kblocks(cl_env, trans_a):
    """The gathered forward GEMM (bias + relu) and weight-gradient GEMM (SGD + colsum) forms."""
    m, n, k = 33, 40, 50
    a, idx, b, ref = gathered_operands(m, n, k, trans_a, 64)
    bias = np.linspace(-3, 3, n).astype(np.float32)
    epi = GemmEpilogue(("col",), "fmax(acc + e0, 0.0f)")
    cs = GemmEpilogue((), "2.0f * acc")
    plan = plan_gemm(
        m, n, k, trans_a=trans_a, gather_a=64, epilogue=epi, colsum=cs, params={"kb": 16}
    )
    assert plan.launches[0].args == ("A", "IA", "B", "C", "E0", "S")
    c, s = run_plan(cl_env, plan, m, n, a, b, (bias,), {"IA": idx}, read=("C", "S"))
    assert_close(c, np.maximum(ref + bias, 0.0))
    np.testing.assert_allclose(s, 2.0 * b.astype(np.float64).sum(0), rtol=1e-4, atol=1e-4)


def test_gathered_a_k_zero(cl_env):
    plan = plan_gemm(3, 4, 0, gather_a=5, epilogue=GemmEpilogue((), "acc + 1.0f"))
    idx = np.zeros(3, np.int32)
    got = run_plan(
        cl_env, plan, 3, 4, np.zeros((5, 0), np.float32), np.zeros((0, 4)), named={"IA": idx}
    )
    np.testing.assert_array_equal(got, np.ones((3, 4), np.float32))


def epilogue_cases(m, n, rng):
    """(epilogue, extra arrays, function of the float64 product giving the expected C)."""
    bias = rng.standard_normal(n).astype(np.float32)
    mask = (rng.random((m, n)) > 0.5).astype(np.float32)
    row = rng.standard_normal(m).astype(np.float32)
    return {
        "bias_relu": (
            GemmEpilogue(("col",), "((acc + e0) < 0.0f ? 0.0f : (acc + e0))"),
            (bias,),
            lambda p: np.maximum(p + bias, 0.0),
        ),
        "relu_mask": (GemmEpilogue(("full",), "acc * e0"), (mask,), lambda p: p * mask),
        "row_scale": (GemmEpilogue(("row",), "acc * e0"), (row,), lambda p: p * row[:, None]),
        "all_three": (
            GemmEpilogue(("row", "full", "col"), "(acc + e0) * e1 - e2"),
            (row, mask, bias),
            lambda p: (p + row[:, None]) * mask - bias,
        ),
    }


@pytest.mark.parametrize("kind", ["cpu", "gpu"])
@pytest.mark.parametrize("case", ["bias_relu", "relu_mask", "row_scale", "all_three"])
@pytest.mark.parametrize("shape", [(32, 10, 32), (70, 50, 200), (9, 40, 3)])
def test_epilogues(cl_env, shape, case, kind):
    m, n, k = shape
    rng = np.random.default_rng(1)
    epilogue, extras, expect = epilogue_cases(m, n, rng)[case]
    a, b, ref = operands(m, n, k, False, case == "relu_mask")
    plan = plan_gemm(m, n, k, trans_b=case == "relu_mask", epilogue=epilogue, device_kind=kind)
    assert plan.launches[-1].args[-len(extras) :] == tuple(f"E{i}" for i in range(len(extras)))
    assert_close(run_plan(cl_env, plan, m, n, a, b, extras), expect(ref))


@pytest.mark.parametrize("kind", ["cpu", "gpu"])
def test_k_zero_gives_epilogue_of_zero(cl_env, kind):
    bias = np.arange(5, dtype=np.float32) - 2
    epilogue = GemmEpilogue(("col",), "fmax(acc + e0, 0.0f)")
    plan = plan_gemm(3, 5, 0, epilogue=epilogue, device_kind=kind)
    got = run_plan(
        cl_env, plan, 3, 5, np.zeros((3, 0), np.float32), np.zeros((0, 5), np.float32), (bias,)
    )
    np.testing.assert_array_equal(got, np.broadcast_to(np.maximum(bias, 0), (3, 5)))


@pytest.mark.parametrize("trans", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("shape", [(1, 1, 1), (33, 7, 100), (70, 130, 17), (64, 64, 64)])
def test_gpu_variant_on_this_device(cl_env, shape, trans):
    m, n, k = shape
    a, b, ref = operands(m, n, k, *trans)
    plan = plan_gemm(m, n, k, trans_a=trans[0], trans_b=trans[1], device_kind="gpu")
    assert len(plan.launches) == 1 and plan.launches[0].local_size == (16, 16)
    assert_close(run_plan(cl_env, plan, m, n, a, b), ref)


@pytest.mark.parametrize("trans", [(False, False), (True, False), (False, True), (True, True)])
def test_params_override_tiles(cl_env, trans):
    a, b, ref = operands(90, 40, 150, *trans)
    cpu = plan_gemm(90, 40, 150, trans_a=trans[0], trans_b=trans[1], params={"tn": 16, "wg": 4})
    gpu = plan_gemm(
        90,
        40,
        150,
        trans_a=trans[0],
        trans_b=trans[1],
        device_kind="gpu",
        params={"wg": (8, 8), "rm": 2, "rn": 4, "tk": 8},
    )
    assert cpu.launches[-1].local_size == (1, 4) and gpu.launches[0].local_size == (8, 8)
    assert_close(run_plan(cl_env, cpu, 90, 40, a, b), ref)
    assert_close(run_plan(cl_env, gpu, 90, 40, a, b), ref)


MLP_GEMMS = [  # (m, n, k, trans_a, trans_b): the train steps of 784-32-10 / 784-512-512-10
    (32, 32, 784, False, False),
    (32, 10, 32, False, False),
    (32, 10, 32, True, False),
    (32, 32, 10, False, True),
    (784, 32, 32, True, False),
    (128, 512, 784, False, False),
    (128, 512, 512, False, False),
    (128, 10, 512, False, False),
    (128, 512, 10, False, True),
    (128, 512, 512, False, True),
    (784, 512, 128, True, False),
    (512, 512, 128, True, False),
    (512, 10, 128, True, False),
]


@pytest.mark.parametrize("shape", MLP_GEMMS, ids=lambda s: "x".join(map(str, s[:3])))
def test_mlp_gemms_are_one_launch(shape):
    m, n, k, trans_a, trans_b = shape
    for gather in (None, 60000):
        plan = plan_gemm(m, n, k, trans_a=trans_a, trans_b=trans_b, gather_a=gather)
        assert len(plan.launches) == 1 and plan.temps == {}


@pytest.mark.parametrize("shape", MLP_GEMMS[5:], ids=lambda s: "x".join(map(str, s[:3])))
def test_m2_gemms_match_numpy(cl_env, shape):
    m, n, k, trans_a, trans_b = shape
    a, b, ref = operands(m, n, k, trans_a, trans_b)
    assert_close(
        run_plan(cl_env, plan_gemm(m, n, k, trans_a=trans_a, trans_b=trans_b), m, n, a, b), ref
    )


def test_sizes_are_baked_into_the_source():
    launch = plan_gemm(33, 7, 1000).launches[0]
    assert "#define M 33" in launch.source and "#define K 1000" in launch.source
    assert "fma(" not in launch.source and "vload16" not in launch.source


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(m=0, n=1, k=1), "m must be an int >= 1"),
        (dict(m=2, n=1.5, k=1), "n must be an int >= 1"),
        (dict(m=2, n=1, k=-1), "k must be an int >= 0"),
        (dict(m=2, n=2, k=2, device_kind="tpu"), "device_kind must be one of"),
        (dict(m=2, n=2, k=2, epilogue=GemmEpilogue(("diag",), "acc")), "E0 has kind 'diag'"),
        (dict(m=2, n=2, k=2, epilogue=GemmEpilogue(("col",), "acc + e1")), "uses e1"),
        (dict(m=2, n=2, k=2, params={"tile": 8}), "unknown cpu params ['tile']"),
        (dict(m=2, n=2, k=2, params={"tn": 8}), "tn must be 16, 32, 48 or 64"),
        (dict(m=2, n=2, k=2, params={"wg": 0}), "param wg must be an int >= 1, got 0"),
        (dict(m=2, n=2, k=2, params={"walk": "k"}), "param walk must be 'm' or 'n'"),
        (dict(m=2, n=2, k=2, device_kind="gpu", params={"wg": 16}), "a pair of ints"),
        (dict(m=2, n=2, k=2, gather_a=0), "gather_a must be the stored row count"),
        (dict(m=2, n=2, k=2, gather_a=2**30), "gathered A of 1073741824 rows"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan_gemm(**kwargs)


def test_default_params_cover_both_kinds():
    assert set(DEFAULT_PARAMS) == {"cpu", "gpu"}


def test_tuned_params_change_later_plans():
    """set_tuned_params: the kind's defaults for plans given no params, checked, undoable."""
    before = plan_gemm(300, 200, 100).launches[0]
    try:
        assert set_tuned_params("cpu", {"wg": 4, "kb": 32})["wg"] == 4
        tuned = plan_gemm(300, 200, 100).launches[0]
        assert tuned.local_size == (1, 4) and "#define KB 32" in tuned.source
        assert plan_gemm(300, 200, 100, params={"wg": 2}).launches[0].local_size == (1, 2)
        with pytest.raises(ValueError, match="param tn must be 16, 32, 48 or 64"):
            set_tuned_params("cpu", {"tn": 8})
    finally:
        assert set_tuned_params("cpu", None) == DEFAULT_PARAMS["cpu"]
    assert plan_gemm(300, 200, 100).launches[0] == before
