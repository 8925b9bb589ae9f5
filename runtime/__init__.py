"""clflow.runtime: OpenCL device choice, memory, program builds and running executables.

Imports only pyopencl, numpy and the standard library.

Example:
    >>> from clflow.runtime import get_device
    >>> dev = get_device()
    >>> dev.download(dev.upload(np.ones(3, np.float32)), (3,), np.float32)  # doctest: +SKIP
"""

from .build import KernelBuildError, ProgramCache, cache_dir
from .device import (
    Device,
    all_devices,
    default_device,
    describe_devices,
    get_device,
    select_cl_device,
)
from .executor import Runner
from .memory import BufferPool, DeviceBuffer, DeviceMemoryError

__all__ = [
    "BufferPool",
    "Device",
    "DeviceBuffer",
    "DeviceMemoryError",
    "KernelBuildError",
    "ProgramCache",
    "Runner",
    "all_devices",
    "cache_dir",
    "default_device",
    "describe_devices",
    "get_device",
    "select_cl_device",
]
