"""The executable: what lowering produces and the runtime runs. Plain data, no pyopencl.

The runtime reads these objects by attribute only (it never imports the compiler), so the
contract is the field names below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class KernelSource:
    """One OpenCL program with one entry point."""

    name: str  # entry point (the __kernel function's name)
    source: str  # full OpenCL C source
    options: tuple[str, ...] = ()  # build options


@dataclass(frozen=True)
class BufArg:
    """A kernel argument bound to a buffer slot."""

    slot: int


@dataclass(frozen=True)
class ScalarArg:
    """A scalar kernel argument; dtype is 'int32' or 'float32'."""

    dtype: str
    value: float | int


@dataclass(frozen=True)
class Launch:
    """One kernel launch: which kernel, its arguments, its NDRange."""

    kernel: int  # index into Executable.kernels
    args: tuple[BufArg | ScalarArg, ...]
    global_size: tuple[int, ...]
    local_size: tuple[int, ...] | None = None
    label: str = ""  # what it computes, for dumps and profiles (e.g. "%5 = fused_dense[relu]")
    flops: int = 0  # floating point operations, for GFLOP/s in profiles
    nbytes: int = 0  # bytes read + written, for GB/s in profiles


@dataclass(frozen=True)
class Slot:
    """A device buffer the executable uses.

    role: 'input' (bound by the caller each run), 'output' (fresh buffer each run, handed to
    the caller), 'temp' (owned by the prepared executable, reused across runs), 'const'
    (uploaded once from Executable.consts).
    """

    nbytes: int
    role: str
    dtype: str = "float32"
    shape: tuple[int, ...] = ()


@dataclass
class Executable:
    """A compiled graph: kernels, launches over buffer slots, and which slots are the I/O."""

    kernels: list[KernelSource]
    launches: list[Launch]
    slots: list[Slot]
    inputs: list[int]  # slot of each graph input, in graph-input order
    outputs: list[int]  # slot of each graph output, in graph-output order (may repeat)
    consts: dict[int, np.ndarray] = field(default_factory=dict)  # slot -> host data
    key: object = None  # the structural cache key it was compiled for
    info: dict = field(default_factory=dict)  # stage dumps, peak bytes, ... (for tools)
