"""Buffer pool accounting and reuse, copies both ways, out-of-memory handling."""

import numpy as np
import pyopencl as cl
import pytest
from clflow.runtime import DeviceMemoryError
from clflow.runtime import memory as memmod


def test_pool_reuses_the_same_buffer(device):
    before = device.memory_info()
    a = device.alloc(1000)
    raw = a.buf.int_ptr
    info = device.memory_info()
    assert info["num_buffers"] == before["num_buffers"] + 1
    assert info["bytes_in_use"] == before["bytes_in_use"] + 1024  # rounded to 256
    assert info["peak_bytes"] >= info["bytes_in_use"]
    del a
    after_free = device.memory_info()
    assert after_free["bytes_in_use"] == before["bytes_in_use"]
    assert after_free["num_buffers"] == before["num_buffers"]
    assert after_free["pool_bytes"] >= 1024
    b = device.alloc(900)  # same 1024-byte bucket
    assert b.buf.int_ptr == raw
    assert b.nbytes == 900
    assert device.memory_info()["pool_bytes"] == after_free["pool_bytes"] - 1024
    b.release()
    b.release()  # twice is harmless
    assert b.buf is None


def test_zero_bytes_and_negative(device):
    z = device.alloc(0)
    assert z.nbytes == 0 and z.buf is not None
    with pytest.raises(ValueError, match="negative"):
        device.alloc(-1)


def test_pool_cap_frees_oldest(device, monkeypatch):
    device.pool.empty()
    monkeypatch.setattr(device.pool, "max_cached_bytes", 2 * 4096)
    bufs = [device.alloc(4096) for _ in range(3)]
    ptrs = [b.buf.int_ptr for b in bufs]
    for b in bufs:
        b.release()  # released oldest first: bufs[0] is evicted when the third comes back
    assert device.memory_info()["pool_bytes"] == 2 * 4096
    again = {device.alloc(4096).buf.int_ptr for _ in range(1)}
    assert again <= set(ptrs[1:])
    device.pool.empty()
    assert device.memory_info()["pool_bytes"] == 0


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.arange(12, dtype=np.float32).reshape(3, 4).T,  # non-contiguous
        np.arange(40, dtype=np.int32)[::3],  # strided
        np.linspace(-1, 1, 7),  # float64
        np.zeros((0, 3), np.float32),
        np.float32(2.5).reshape(()),
    ],
    ids=["c", "transposed", "strided", "f64", "empty", "scalar"],
)
def test_round_trip(device, array):
    uploads = device.stats["uploads"]
    buf = device.upload(array)
    assert buf.nbytes == array.nbytes
    back = device.download(buf, array.shape, array.dtype)
    np.testing.assert_array_equal(back, array)
    assert back.dtype == array.dtype
    assert device.stats["uploads"] == uploads + 1


def test_upload_into_existing_buffer(device):
    buf = device.alloc(16)
    same = device.upload(np.array([1, 2, 3, 4], np.float32), out=buf)
    assert same is buf
    np.testing.assert_array_equal(device.download(buf, (4,), np.float32), [1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"20 bytes.*has 16"):
        device.upload(np.zeros(5, np.float32), out=buf)
    with pytest.raises(ValueError, match="needs 20 bytes but the buffer has 16"):
        device.download(buf, (5,), np.float32)


def test_non_blocking_uploads_keep_their_arrays(device):
    # Temporary arrays die right after upload(); the copy must still see their data.
    bufs = [device.upload(np.full(50_000, i, np.float32)) for i in range(8)]
    for i, b in enumerate(bufs):
        assert np.all(device.download(b, (50_000,), np.float32) == i)
    device.finish()
    assert not device._pending


def test_absurd_size_raises_and_device_survives(device):
    with pytest.raises(DeviceMemoryError) as info:
        device.alloc(2**50)
    assert isinstance(info.value, MemoryError)
    msg = str(info.value)
    assert str(2**50) in msg and "in use" in msg and device.name in msg
    over = device.max_alloc_bytes + 1
    with pytest.raises(DeviceMemoryError, match="largest allocation"):
        device.alloc(over)
    x = np.arange(100, dtype=np.float32)
    np.testing.assert_array_equal(device.download(device.upload(x), (100,), np.float32), x)


def oom():
    return cl.MemoryError(
        cl._cl._ErrorRecord(
            msg="fake", code=cl.status_code.MEM_OBJECT_ALLOCATION_FAILURE, routine="clCreateBuffer"
        )
    )


def test_driver_oom_retries_with_empty_pool(device, monkeypatch):
    device.alloc(512).release()  # something in the pool to give back
    assert device.memory_info()["pool_bytes"] > 0
    real = cl.Buffer
    calls = []

    def flaky(*args):
        calls.append(args[2])
        if len(calls) == 1:
            raise oom()
        return real(*args)

    monkeypatch.setattr(memmod.cl, "Buffer", flaky)
    buf = device.alloc(3000)
    assert calls == [3072, 3072]
    assert device.memory_info()["pool_bytes"] == 0
    assert buf.buf is not None
    spare = device.alloc(512)

    def broken(*args):
        raise oom()

    monkeypatch.setattr(memmod.cl, "Buffer", broken)
    spare.release()
    with pytest.raises(DeviceMemoryError, match=r"cannot allocate .*\(5000 bytes\).*fake"):
        device.alloc(5000)
    assert device.memory_info()["pool_bytes"] == 0  # it did empty the pool before giving up


def test_upload_rejects_objects_and_released_targets(device):
    with pytest.raises(TypeError, match="object"):
        device.upload(np.array([1, "a"], dtype=object))
    dead = device.alloc(8)
    dead.release()
    with pytest.raises(ValueError, match="released"):
        device.upload(np.zeros(2, np.float32), out=dead)
    with pytest.raises(ValueError, match="released"):
        device.download(dead, (2,), np.float32)
