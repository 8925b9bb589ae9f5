"""Device choice and the Device object: context, queue, memory, programs, counters."""

from __future__ import annotations

import collections
import os
from collections.abc import Sequence

import numpy as np
import pyopencl as cl

from .build import ProgramCache
from .executor import Runner
from .memory import BufferPool, DeviceBuffer, _fmt_bytes

_KINDS = (
    (cl.device_type.GPU, "gpu"),
    (cl.device_type.CPU, "cpu"),
    (cl.device_type.ACCELERATOR, "accelerator"),
)


def _kind(dev: cl.Device) -> str:
    """'gpu', 'cpu' or 'accelerator' (custom devices count as accelerators)."""
    return next((name for bit, name in _KINDS if dev.type & bit), "accelerator")


def _is_pocl(platform: cl.Platform) -> bool:
    return "portable computing language" in platform.name.lower() or "pocl" in platform.version


def all_devices() -> list[tuple[int, int, cl.Device]]:
    """(platform index, device index, device) for every device, in a stable order.

    The ICD loader lists platforms in directory order, which can change between machines or
    runs; sorting platforms by (name, version) and devices by name makes indices reproducible.
    """
    try:
        platforms = cl.get_platforms()
    except cl.Error:  # no ICD installed at all
        platforms = []
    out = []
    for p, plat in enumerate(sorted(platforms, key=lambda pl: (pl.name, pl.version))):
        try:
            devices = plat.get_devices()
        except cl.Error:  # a platform with no devices raises DEVICE_NOT_FOUND
            devices = []
        for d, dev in enumerate(sorted(devices, key=lambda dv: dv.name)):
            out.append((p, d, dev))
    return out


def _label(dev: cl.Device) -> str:
    return f"{dev.platform.name.strip()} / {dev.name.strip()}"


def _match(spec: str, devices: list[tuple[int, int, cl.Device]]) -> cl.Device | None:
    """The device spec names, or None."""
    s = spec.strip().lower()
    if s in ("gpu", "cpu", "accelerator"):
        return next((d for _, _, d in devices if _kind(d) == s), None)
    if s == "pocl":
        return next((d for _, _, d in devices if _is_pocl(d.platform)), None)
    if ":" in s:  # pyopencl syntax: platform part ':' device part, each an index or substring
        pp, dp = (part.strip() for part in s.split(":", 1))
        plats = sorted({p for p, _, _ in devices})
        for p in plats:
            plat = next(d.platform for q, _, d in devices if q == p)
            if pp and not (pp == str(p) or (not pp.isdigit() and pp in plat.name.lower())):
                continue
            devs = [(i, d) for q, i, d in devices if q == p]
            for i, d in devs:
                if not dp or dp == str(i) or (not dp.isdigit() and dp in d.name.lower()):
                    return d
        return None
    if s.isdigit():
        return next((d for p, _, d in devices if str(p) == s), None)
    return next((d for _, _, d in devices if s in _label(d).lower()), None)


def _default(devices: list[tuple[int, int, cl.Device]]) -> cl.Device:
    for kind in ("gpu", "cpu"):
        dev = _match(kind, devices)
        if dev is not None:
            return dev
    return devices[0][2]


def select_cl_device(spec: str | None = None) -> cl.Device:
    """The OpenCL device to use.

    Args:
        spec: 'gpu', 'cpu', 'accelerator', 'pocl', 'P:D' (indices as in describe_devices(),
            or name substrings), 'P' or a case-insensitive substring of "platform / device".
            None reads $CLFLOW_DEVICE, then $PYOPENCL_CTX, then takes the first GPU, else the
            first CPU.

    Example:
        >>> dev = select_cl_device("cpu")
        >>> dev.type & cl.device_type.CPU != 0
        True
    """
    devices = all_devices()
    if not devices:
        raise RuntimeError(
            "no OpenCL device found: install a driver, or pocl for the CPU "
            "(pip install 'pyopencl[pocl]')"
        )
    source = "argument"
    if spec is None:
        for var in ("CLFLOW_DEVICE", "PYOPENCL_CTX"):
            if os.environ.get(var, "").strip():
                spec, source = os.environ[var], f"${var}"
                break
    if spec is None or not spec.strip():
        return _default(devices)
    dev = _match(spec, devices)
    if dev is None:
        listing = "\n".join(f"  {p}:{d}  {_label(dv)} ({_kind(dv)})" for p, d, dv in devices)
        raise ValueError(
            f"no OpenCL device matches {spec!r} (from {source}); expected 'gpu', 'cpu', "
            f"'accelerator', 'pocl', 'P:D', 'P' or part of a name. Available:\n{listing}"
        )
    return dev


def describe_devices(spec: str | None = None) -> str:
    """A table of every platform and device with its limits; '*' marks the one chosen.

    Args:
        spec: as for select_cl_device (None: the environment / default choice).

    Example:
        >>> print(describe_devices())  # doctest: +SKIP
    """
    devices = all_devices()
    if not devices:
        return "no OpenCL platform or device found"
    try:
        chosen = select_cl_device(spec)
    except ValueError:
        chosen = None
    head = (
        "",
        "P:D",
        "platform / device",
        "type",
        "CUs",
        "global mem",
        "max alloc",
        "max wg",
        "local mem",
        "driver",
    )
    rows = [head]
    for p, d, dev in devices:
        rows.append(
            (
                "*" if dev == chosen else "",
                f"{p}:{d}",
                _label(dev),
                _kind(dev),
                str(dev.max_compute_units),
                _fmt_bytes(dev.global_mem_size),
                _fmt_bytes(dev.max_mem_alloc_size),
                str(dev.max_work_group_size),
                _fmt_bytes(dev.local_mem_size),
                dev.driver_version,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


class Device:
    """One OpenCL device: its context, one in-order queue, a buffer pool and a program cache.

    Use get_device() rather than the constructor so that each device has one Device.

    Example:
        >>> dev = get_device("cpu")
        >>> buf = dev.upload(np.arange(4, dtype=np.float32))
        >>> dev.download(buf, (4,), np.float32)
        array([0., 1., 2., 3.], dtype=float32)
    """

    def __init__(self, cl_device: cl.Device) -> None:
        self.cl_device = cl_device
        plat = cl_device.platform
        self.name = cl_device.name.strip()
        self.kind = _kind(cl_device)
        self.platform_name = plat.name.strip()
        self.platform_version = plat.version.strip()
        self.driver_version = cl_device.driver_version.strip()
        self.is_pocl = _is_pocl(plat)
        self.compute_units = cl_device.max_compute_units
        self.global_mem_bytes = cl_device.global_mem_size
        self.max_alloc_bytes = cl_device.max_mem_alloc_size
        self.max_work_group_size = cl_device.max_work_group_size
        self.local_mem_bytes = cl_device.local_mem_size
        self.context = cl.Context([cl_device])
        # Profiling is on a second queue made on first use: on pocl a profiling queue cost
        # ~0.4-2.5 us more per enqueue (3-4 us baseline), too much for a launch-bound model.
        self.queue = cl.CommandQueue(self.context, cl_device)
        self._profile_queue: cl.CommandQueue | None = None
        self.stats = {"builds": 0, "binary_loads": 0, "launches": 0, "uploads": 0, "downloads": 0}
        self.pool = BufferPool(self, max_cached_bytes=self.global_mem_bytes // 4)
        self.programs = ProgramCache(self)
        self._pending: collections.deque = collections.deque()  # (event, host array) pairs

    def __repr__(self) -> str:
        return f"<Device {self.kind} {self.platform_name!r} / {self.name!r}>"

    @property
    def profile_queue(self) -> cl.CommandQueue:
        """An in-order queue with profiling on (callers finish() self.queue before using it)."""
        if self._profile_queue is None:
            self._profile_queue = cl.CommandQueue(
                self.context,
                self.cl_device,
                properties=cl.command_queue_properties.PROFILING_ENABLE,
            )
        return self._profile_queue

    # memory

    def alloc(self, nbytes: int) -> DeviceBuffer:
        """An uninitialised buffer of nbytes (0 is fine) from the pool."""
        return self.pool.alloc(int(nbytes))

    def upload(self, array: np.ndarray, out: DeviceBuffer | None = None) -> DeviceBuffer:
        """Copy a host array to the device without waiting.

        The copy reads the array later: do not modify it until the queue has run past the
        copy (any download or finish() ensures that); non-contiguous arrays are copied first.

        Args:
            array: host data of any dtype and layout.
            out: a buffer of exactly array.nbytes to copy into (default: a new one).
        """
        arr = np.ascontiguousarray(array)
        if arr.dtype.hasobject:
            raise TypeError(f"upload: cannot copy an array of {arr.dtype} to a device")
        if out is not None and out.buf is None:
            raise ValueError("upload: the destination buffer was released")
        if out is None:
            out = self.pool.alloc(arr.nbytes)
        elif out.nbytes != arr.nbytes:
            raise ValueError(
                f"upload: the array has {arr.nbytes} bytes (shape {arr.shape}, {arr.dtype}) "
                f"but the destination buffer has {out.nbytes}"
            )
        if arr.nbytes:
            event = cl.enqueue_copy(self.queue, out.buf, arr, is_blocking=False)
            pending = self._pending
            # In-order queue: events complete in order, so pruning from the left suffices.
            while pending and pending[0][0].command_execution_status == 0:
                pending.popleft()
            pending.append((event, arr))
        self.stats["uploads"] += 1
        return out

    def download(self, buf: DeviceBuffer, shape, dtype=np.float32) -> np.ndarray:
        """Copy a buffer into a new host array of this shape and dtype (waits for it)."""
        out = np.empty(shape, dtype)
        if buf.buf is None:
            raise ValueError("download: the buffer was released")
        if out.nbytes > buf.nbytes:
            raise ValueError(
                f"download: shape {tuple(out.shape)} of {out.dtype} needs {out.nbytes} bytes "
                f"but the buffer has {buf.nbytes}"
            )
        if out.nbytes:
            cl.enqueue_copy(self.queue, out, buf.buf, is_blocking=True)
            self._pending.clear()
        self.stats["downloads"] += 1
        return out

    def copy(self, src: DeviceBuffer, nbytes: int, src_offset: int = 0) -> DeviceBuffer:
        """A new buffer holding ``nbytes`` of ``src`` from byte ``src_offset`` (no wait).

        A device-side copy: on pocl about 7 us, against about 45 us for an upload.
        """
        if src.buf is None:
            raise ValueError("copy: the source buffer was released")
        if nbytes < 0 or src_offset < 0 or src_offset + nbytes > src.nbytes:
            raise ValueError(
                f"copy: bytes [{src_offset}, {src_offset + nbytes}) are outside the source "
                f"buffer of {src.nbytes} bytes"
            )
        out = self.pool.alloc(nbytes)
        if nbytes:
            cl.enqueue_copy(self.queue, out.buf, src.buf, byte_count=nbytes, src_offset=src_offset)
        return out

    def read_scalars(self, buffers: Sequence[DeviceBuffer], dtype=np.float32) -> np.ndarray:
        """The first element of each buffer, read with one wait.

        Device-side copies gather them into one buffer first: each host read is a sync of
        about 50 us on pocl, a device copy about 7 us.
        """
        dtype = np.dtype(dtype)
        if len(buffers) <= 2:
            return np.array([self.download(b, (), dtype) for b in buffers], dtype)
        size = dtype.itemsize
        for b in buffers:
            if b.buf is None or b.nbytes < size:
                raise ValueError(f"read_scalars: {b!r} holds no {dtype} value")
        staging = self.pool.alloc(size * len(buffers))
        try:
            for k, b in enumerate(buffers):
                cl.enqueue_copy(
                    self.queue, staging.buf, b.buf, byte_count=size, dst_offset=k * size
                )
            return self.download(staging, (len(buffers),), dtype)
        finally:
            staging.release()

    def memory_info(self) -> dict:
        """num_buffers, bytes_in_use, pool_bytes and peak_bytes of this device."""
        return self.pool.info()

    # programs and execution

    def kernel(self, source: str, name: str, options: tuple[str, ...] = ()) -> cl.Kernel:
        """A fresh cl.Kernel for entry point name of source (built once, then cached)."""
        return self.programs.kernel(source, name, tuple(options))

    def prepare(self, executable) -> Runner:
        """A Runner for an executable: kernels built, temps allocated, consts uploaded.

        Args:
            executable: a clflow.compiler.executable.Executable (read by attribute).
        """
        return Runner(self, executable)

    def finish(self) -> None:
        """Wait until everything enqueued on this device has run."""
        self.queue.finish()
        self._pending.clear()


_devices: dict[cl.Device, Device] = {}


def get_device(spec: str | None = None) -> Device:
    """The Device for spec (see select_cl_device), one per OpenCL device.

    Args:
        spec: device choice; None means the environment / default choice.

    Example:
        >>> get_device("cpu").kind
        'cpu'
    """
    cl_dev = select_cl_device(spec)
    dev = _devices.get(cl_dev)
    if dev is None:
        dev = _devices[cl_dev] = Device(cl_dev)
    return dev


def default_device() -> Device:
    """The Device chosen by the environment or the default rule."""
    return get_device(None)
