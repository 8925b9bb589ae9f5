"""Program build cache (memory and disk) and build-failure reports."""

import numpy as np
import pyopencl as cl
import pytest
from clflow.runtime import KernelBuildError, ProgramCache

SRC = """
__kernel void scale(__global float *x, const float s, const int n) {
    int i = get_global_id(0);
    if (i < n) x[i] *= s;
}
"""


def run_scale(device, kern, values, s):
    buf = device.upload(np.asarray(values, np.float32))
    kern.set_args(buf.buf, np.float32(s), np.int32(len(values)))
    cl.enqueue_nd_range_kernel(device.queue, kern, (len(values),), None)
    return device.download(buf, (len(values),), np.float32)


def test_same_source_builds_once(device):
    src = SRC + "// test_same_source_builds_once\n"  # a source no other test has built
    builds = device.stats["builds"]
    k1 = device.kernel(src, "scale")
    assert device.stats["builds"] == builds + 1
    k2 = device.kernel(src, "scale")
    assert device.stats["builds"] == builds + 1
    assert k1 is not k2  # each caller gets its own argument slots
    np.testing.assert_allclose(run_scale(device, k2, [1, 2, 3], 3.0), [3, 6, 9])
    device.kernel(src, "scale", ("-cl-fast-relaxed-math",))  # other options: other program
    assert device.stats["builds"] == builds + 2


def test_unknown_kernel_name(device):
    with pytest.raises(ValueError, match=r"no kernel named 'nope'.*scale"):
        device.kernel(SRC, "nope")


def test_build_error_has_name_log_and_source(device, cache_dir):
    src = "__kernel void broken_kernel(__global float *x) { x[0] = undefined_thing; }\n"
    with pytest.raises(KernelBuildError) as info:
        device.kernel(src, "broken_kernel", ("-DFOO=1",))
    err = info.value
    msg = str(err)
    assert "broken_kernel" in msg and "undefined_thing" in msg and "-DFOO=1" in msg
    assert err.source_path in msg
    assert err.source_path.startswith(str(cache_dir / "failed"))
    with open(err.source_path) as f:
        assert f.read() == src
    assert "undefined_thing" in err.log
    # The device is still fine afterwards.
    assert device.kernel(SRC, "scale") is not None


def test_disk_cache_loads_binaries(device, cache_dir):
    src = SRC + "// test_disk_cache_loads_binaries\n"
    first = ProgramCache(device, use_disk=True)
    k = first.kernel(src, "scale")
    binaries = list((cache_dir / "binaries").glob("*.bin"))
    assert len(binaries) == 1 and binaries[0].stat().st_size > 0
    np.testing.assert_allclose(run_scale(device, k, [1, -2], 0.5), [0.5, -1])
    loads = device.stats["binary_loads"]
    second = ProgramCache(device, use_disk=True)  # empty memory cache: a new process, say
    k = second.kernel(src, "scale")
    assert device.stats["binary_loads"] == loads + 1
    np.testing.assert_allclose(run_scale(device, k, [4, 8], 0.25), [1, 2])
    # A corrupt binary is rebuilt from source and rewritten.
    binaries[0].write_bytes(b"garbage")
    k = ProgramCache(device, use_disk=True).kernel(src, "scale")
    assert device.stats["binary_loads"] == loads + 1
    np.testing.assert_allclose(run_scale(device, k, [2], 2.0), [4])
    assert binaries[0].read_bytes() != b"garbage"


def test_disk_cache_off_writes_nothing(device, cache_dir):
    ProgramCache(device, use_disk=False).kernel(SRC + "// off\n", "scale")
    assert not (cache_dir / "binaries").exists()
