"""Device memory: DeviceBuffer handles and the per-device buffer pool."""

from __future__ import annotations

import pyopencl as cl

# Pool buckets: sizes are rounded up to this, so near-equal requests share buffers.
GRANULARITY = 256

# Error codes that mean "the device has no memory left" (as opposed to a bad argument).
_OOM_CODES = {
    cl.status_code.MEM_OBJECT_ALLOCATION_FAILURE,
    cl.status_code.OUT_OF_RESOURCES,
    cl.status_code.OUT_OF_HOST_MEMORY,
}


class DeviceMemoryError(MemoryError):
    """The device could not provide the memory asked for."""


def _fmt_bytes(n: int) -> str:
    """Human-readable byte count."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


class DeviceBuffer:
    """A device allocation; dropping it (or release()) hands its cl.Buffer back to the pool.

    Attributes:
        buf: the pyopencl Buffer (None once released).
        nbytes: the size that was asked for (the underlying buffer may be slightly larger).
        device: the runtime Device that owns it.
    """

    __slots__ = ("buf", "nbytes", "device", "_size", "__weakref__")

    def __init__(self, buf: cl.Buffer, nbytes: int, device, size: int) -> None:
        self.buf = buf
        self.nbytes = nbytes
        self.device = device
        self._size = size  # rounded size: the pool bucket it returns to

    def release(self) -> None:
        """Return the buffer to the device's pool now; the handle is unusable afterwards."""
        buf, self.buf = self.buf, None
        if buf is not None:
            self.device.pool.give_back(self._size, buf)

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # interpreter shutdown: the pool may already be gone
            pass

    def __repr__(self) -> str:
        state = "released" if self.buf is None else f"{self.nbytes} bytes"
        return f"<DeviceBuffer {state} on {self.device.name!r}>"


class BufferPool:
    """Free cl.Buffers by rounded size, with a cap on the bytes it keeps cached."""

    def __init__(self, device, max_cached_bytes: int) -> None:
        self.device = device
        self.max_cached_bytes = max_cached_bytes
        self._free: dict[int, list[tuple[int, cl.Buffer]]] = {}  # size -> [(seq, buf)], by age
        self._seq = 0
        self.num_buffers = 0  # live DeviceBuffers
        self.bytes_in_use = 0  # their rounded sizes
        self.pool_bytes = 0
        self.peak_bytes = 0

    def alloc(self, nbytes: int) -> DeviceBuffer:
        """A DeviceBuffer of at least nbytes, from the free list or newly allocated."""
        if nbytes < 0:
            raise ValueError(f"cannot allocate a negative number of bytes ({nbytes})")
        size = max(GRANULARITY, -(-nbytes // GRANULARITY) * GRANULARITY)
        bucket = self._free.get(size)
        if bucket:
            buf = bucket.pop()[1]  # newest first: most likely still in cache
            self.pool_bytes -= size
        else:
            buf = self._allocate(nbytes, size)
        self.num_buffers += 1
        self.bytes_in_use += size
        if self.bytes_in_use > self.peak_bytes:
            self.peak_bytes = self.bytes_in_use
        return DeviceBuffer(buf, nbytes, self.device, size)

    def give_back(self, size: int, buf: cl.Buffer) -> None:
        """Take back a buffer released by a DeviceBuffer."""
        self.num_buffers -= 1
        self.bytes_in_use -= size
        self._seq += 1
        self._free.setdefault(size, []).append((self._seq, buf))
        self.pool_bytes += size
        if self.pool_bytes > self.max_cached_bytes:
            self._evict(self.pool_bytes - self.max_cached_bytes)

    def empty(self) -> None:
        """Free every cached buffer."""
        self._evict(self.pool_bytes)

    def _evict(self, nbytes: int) -> None:
        """Free the oldest cached buffers until at least nbytes are freed."""
        freed = 0
        while freed < nbytes and self.pool_bytes:
            size = min((b[0][0], s) for s, b in self._free.items() if b)[1]
            bucket = self._free[size]
            bucket.pop(0)[1].release()
            if not bucket:
                del self._free[size]
            self.pool_bytes -= size
            freed += size

    def _allocate(self, nbytes: int, size: int) -> cl.Buffer:
        """A new cl.Buffer; empties the pool and retries once before raising DeviceMemoryError."""
        dev = self.device
        if size > dev.max_alloc_bytes:
            raise self._oom(
                nbytes, f"the device's largest allocation is {_fmt_bytes(dev.max_alloc_bytes)}"
            )
        # Many drivers allocate lazily, so check the total up front as well.
        if self.bytes_in_use + self.pool_bytes + size > dev.global_mem_bytes:
            self.empty()
            if self.bytes_in_use + size > dev.global_mem_bytes:
                raise self._oom(nbytes, f"the device has {_fmt_bytes(dev.global_mem_bytes)}")
        for attempt in range(2):
            try:
                return cl.Buffer(dev.context, cl.mem_flags.READ_WRITE, size)
            except cl.Error as err:
                if err.code not in _OOM_CODES:
                    raise
                if attempt or not self.pool_bytes:
                    raise self._oom(nbytes, f"the driver said {err}") from err
                self.empty()
        raise AssertionError("unreachable")

    def _oom(self, nbytes: int, why: str) -> DeviceMemoryError:
        """The error for a failed allocation of nbytes."""
        return DeviceMemoryError(
            f"cannot allocate {_fmt_bytes(nbytes)} ({nbytes} bytes) on {self.device.name!r}: "
            f"{why}; in use: {_fmt_bytes(self.bytes_in_use)} in {self.num_buffers} buffers, "
            f"pool: {_fmt_bytes(self.pool_bytes)}"
        )

    def info(self) -> dict:
        """Counters for Device.memory_info()."""
        return {
            "num_buffers": self.num_buffers,
            "bytes_in_use": self.bytes_in_use,
            "pool_bytes": self.pool_bytes,
            "peak_bytes": self.peak_bytes,
        }
