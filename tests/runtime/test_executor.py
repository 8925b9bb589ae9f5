"""Preparing and running executables: numbers, no rebuilds, aliasing, errors, profiles."""

import numpy as np
import pytest
from clflow.compiler.executable import BufArg, Executable, KernelSource, Launch, ScalarArg, Slot

ADD = KernelSource(
    "add",
    """__kernel void add(__global const float *a, __global const float *b,
                       __global float *c, const int n) {
        int i = get_global_id(0);
        if (i < n) c[i] = a[i] + b[i];
    }""",
)
AXPB = KernelSource(
    "axpb",
    """__kernel void axpb(__global const float *x, const float s, __global const float *k,
                        __global float *y, const int n) {
        int i = get_global_id(0);
        if (i < n) y[i] = x[i] * s + k[i];
    }""",
)
N = 10


def executable(outputs=(3,), local_size=None, consts=None):
    """d = (a + b) * 2 + k, with c = a + b in a temp slot and k a constant."""
    nb = 4 * N
    return Executable(
        kernels=[ADD, AXPB],
        launches=[
            Launch(
                0,
                (BufArg(0), BufArg(1), BufArg(2), ScalarArg("int32", N)),
                (16,),
                local_size,
                label="c = a + b",
            ),
            Launch(
                1,
                (BufArg(2), ScalarArg("float32", 2.0), BufArg(4), BufArg(3), ScalarArg("int32", N)),
                (16,),
                local_size,
                label="d = c * 2 + k",
                flops=2 * N,
                nbytes=12 * N,
            ),
        ],
        slots=[
            Slot(nb, "input"),
            Slot(nb, "input"),
            Slot(nb, "temp"),
            Slot(nb, "output"),
            Slot(nb, "const"),
        ],
        inputs=[0, 1],
        outputs=list(outputs),
        consts={4: np.arange(N, dtype=np.float32) * 10} if consts is None else consts,
    )


def reference(a, b):
    return (a.astype(np.float64) + b) * 2 + np.arange(N) * 10


def inputs(device, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((2, N)).astype(np.float32)
    return a, b, [device.upload(a), device.upload(b)]


@pytest.mark.parametrize("local_size", [None, (4,)])
def test_two_runs_correct_and_no_rebuild(device, local_size):
    exe = executable(local_size=local_size)
    runner = device.prepare(exe)
    builds, launches = device.stats["builds"], device.stats["launches"]
    for seed in (1, 2):
        a, b, bufs = inputs(device, seed)
        (d,) = runner.run(bufs)
        got = device.download(d, (N,), np.float32)
        np.testing.assert_allclose(got, reference(a, b), rtol=1e-6, atol=1e-6)
    assert device.stats["builds"] == builds
    assert device.stats["launches"] == launches + 4
    device.prepare(exe)  # a second runner of the same kernels builds nothing either
    assert device.stats["builds"] == builds


def test_fresh_outputs_and_persistent_temps(device):
    runner = device.prepare(executable())
    _, _, bufs = inputs(device, 3)
    (d1,) = runner.run(bufs)
    (d2,) = runner.run(bufs)
    assert d1 is not d2 and d1.buf.int_ptr != d2.buf.int_ptr  # d1 still alive: fresh buffer
    np.testing.assert_array_equal(
        device.download(d1, (N,), np.float32), device.download(d2, (N,), np.float32)
    )


def test_outputs_alias_inputs_and_repeat(device):
    runner = device.prepare(executable(outputs=(3, 0, 3, 1)))
    a, b, bufs = inputs(device, 4)
    d, a_out, d_again, b_out = runner.run(bufs)
    assert a_out is bufs[0] and b_out is bufs[1] and d_again is d
    np.testing.assert_allclose(device.download(d, (N,), np.float32), reference(a, b), rtol=1e-6)
    np.testing.assert_array_equal(device.download(a_out, (N,), np.float32), a)


def test_profile_records_each_launch(device):
    runner = device.prepare(executable())
    a, b, bufs = inputs(device, 5)
    (d,) = runner.run(bufs, profile=True)
    assert [label for label, _ in runner.last_profile] == ["c = a + b", "d = c * 2 + k"]
    assert all(t > 0 for _, t in runner.last_profile)
    assert "d = c * 2 + k" in runner.profile_table()
    np.testing.assert_allclose(device.download(d, (N,), np.float32), reference(a, b), rtol=1e-6)
    (d,) = runner.run(bufs)  # and the plain queue afterwards still orders correctly
    np.testing.assert_allclose(device.download(d, (N,), np.float32), reference(a, b), rtol=1e-6)


def test_run_checks_inputs(device):
    runner = device.prepare(executable())
    _, _, bufs = inputs(device, 6)
    with pytest.raises(ValueError, match="takes 2 inputs, got 1"):
        runner.run(bufs[:1])
    with pytest.raises(ValueError, match="input 1 has 36 bytes, expected 40"):
        runner.run([bufs[0], device.alloc(36)])
    dead = device.alloc(40)
    dead.release()
    with pytest.raises(ValueError, match="input 0 was released"):
        runner.run([dead, bufs[1]])


def test_prepare_rejects_bad_executables(device):
    with pytest.raises(ValueError, match="role 'temp'"):
        device.prepare(executable(outputs=(2,)))
    with pytest.raises(ValueError, match="const slot 4 has no data"):
        device.prepare(executable(consts={}))
    with pytest.raises(ValueError, match="const slot 4 is 40 bytes but its data has 8"):
        device.prepare(executable(consts={4: np.zeros(2, np.float32)}))
    exe = executable()
    exe.launches[0] = Launch(0, (BufArg(0), BufArg(1)), (16,))
    with pytest.raises(ValueError, match="passes 2 arguments but kernel 'add' takes 4"):
        device.prepare(exe)
    exe = executable()
    exe.launches[0] = Launch(0, (BufArg(0), BufArg(1), BufArg(9), ScalarArg("int32", N)), (16,))
    with pytest.raises(ValueError, match="uses slot 9; there are 5 slots"):
        device.prepare(exe)
    exe = executable()
    exe.inputs = [0]
    with pytest.raises(ValueError, match="must list each 'input' slot"):
        device.prepare(exe)


def test_empty_launches_are_skipped_and_sizes_checked(device):
    exe = executable()
    exe.launches.append(Launch(0, exe.launches[0].args, (0,), label="empty"))
    runner = device.prepare(exe)
    assert runner.num_launches == 2
    a, b, bufs = inputs(device, 7)
    (d,) = runner.run(bufs, profile=True)
    np.testing.assert_allclose(device.download(d, (N,), np.float32), reference(a, b), rtol=1e-6)
    assert len(runner.profile_table().splitlines()) == 3
    exe.launches[2] = Launch(0, exe.launches[0].args, (16,), (4, 4))
    with pytest.raises(ValueError, match="same 1 to 3 dimensions"):
        device.prepare(exe)
