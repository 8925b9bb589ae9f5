"""GEMM renderer: every plan run on the OpenCL device against a float64 numpy reference."""

import numpy as np
import pyopencl as cl
import pytest
from clflow.kernels.gemm import DEFAULT_PARAMS, GemmEpilogue, plan_gemm

MF = cl.mem_flags


@pytest.fixture(scope="module")
def cl_env():
    ctx = cl.create_some_context(interactive=False)
    return ctx, cl.CommandQueue(ctx)


def _buffer(ctx, array: np.ndarray) -> cl.Buffer:
    if array.size == 0:  # OpenCL has no empty buffers; the kernel never reads it (K == 0)
        return cl.Buffer(ctx, MF.READ_ONLY, 4)
    return cl.Buffer(ctx, MF.READ_ONLY | MF.COPY_HOST_PTR, hostbuf=np.ascontiguousarray(array))


def run_plan(cl_env, plan, m, n, a, b, extras=()) -> np.ndarray:
    """Bind buffers by the plan's argument names, enqueue its launches, read C back."""
    ctx, queue = cl_env
    bufs = {
        "A": _buffer(ctx, a),
        "B": _buffer(ctx, b),
        "C": cl.Buffer(ctx, MF.WRITE_ONLY, m * n * 4),
    }
    bufs.update({f"E{i}": _buffer(ctx, e) for i, e in enumerate(extras)})
    bufs.update({name: cl.Buffer(ctx, MF.READ_WRITE, size) for name, size in plan.temps.items()})
    for launch in plan.launches:
        kernel = cl.Kernel(cl.Program(ctx, launch.source).build(), launch.name)
        kernel.set_args(*(bufs[arg] for arg in launch.args))
        cl.enqueue_nd_range_kernel(queue, kernel, launch.global_size, launch.local_size)
    out = np.empty((m, n), np.float32)
    cl.enqueue_copy(queue, out, bufs["C"])
    queue.finish()
    return out


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


def test_cpu_large_square(cl_env):
    a, b, ref = operands(1000, 1000, 1000, False, False)
    plan = plan_gemm(1000, 1000, 1000)
    assert [launch.args[-2:] for launch in plan.launches] == [("B", "Bpacked"), ("Bpacked", "C")]
    assert_close(run_plan(cl_env, plan, 1000, 1000, a, b), ref)


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


@pytest.mark.parametrize(
    "shape",
    [
        (32, 32, 784, False, False),
        (32, 10, 32, False, False),
        (32, 10, 32, True, False),
        (32, 32, 10, False, True),
        (784, 32, 32, True, False),
    ],
)
def test_small_mlp_gemms_are_one_launch(shape):
    m, n, k, trans_a, trans_b = shape
    plan = plan_gemm(m, n, k, trans_a=trans_a, trans_b=trans_b)
    assert len(plan.launches) == 1 and plan.temps == {}


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
        (dict(m=2, n=2, k=2, params={"tn": 8}), "tn must be 16 or 32"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan_gemm(**kwargs)


def test_default_params_cover_both_kinds():
    assert set(DEFAULT_PARAMS) == {"cpu", "gpu"}
