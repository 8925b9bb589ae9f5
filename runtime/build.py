"""Program builds, cached in memory per device and, where the driver does not, on disk."""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path

import pyopencl as cl
import pyopencl.characterize


class KernelBuildError(RuntimeError):
    """An OpenCL program failed to build; the message carries the log and the source's path."""

    def __init__(self, name: str, log: str, source_path: str, options: tuple[str, ...]) -> None:
        self.name = name
        self.log = log
        self.source_path = source_path
        self.options = options
        opts = f" with options {' '.join(options)!r}" if options else ""
        super().__init__(
            f"OpenCL build of kernel {name!r} failed{opts}; full source written to "
            f"{source_path}\n--- build log ---\n{log.strip()}"
        )


def cache_dir() -> Path:
    """Where clflow keeps its files: $CLFLOW_CACHE_DIR, else ~/.cache/clflow."""
    env = os.environ.get("CLFLOW_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "clflow"


def _uncached_program(context: cl.Context, source: str) -> cl.Program:
    """A source program that pyopencl's own binary cache does not intercept.

    We cache ourselves (no lock file that a killed process can leave behind), so we hand
    pyopencl an already-created raw program; if that private name ever goes, fall back to the
    plain (pyopencl-cached) path, which is also correct.
    """
    raw = getattr(cl, "_Program", None)
    return cl.Program(raw(context, source)) if raw is not None else cl.Program(context, source)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that concurrent readers see either nothing or all of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class ProgramCache:
    """Built programs of one device, keyed by (source, options).

    The disk cache stores program binaries. It is off where the driver caches builds itself:
    pocl keeps its own kernel cache (POCL_CACHE_DIR, ~/.cache/pocl), and measured on this
    machine a pocl rebuild of a seen source costs ~27 ms against ~510 ms cold, while loading
    our binary would save only ~15 ms more; NVIDIA has its ComputeCache.
    """

    def __init__(self, device, use_disk: bool | None = None) -> None:
        self.device = device
        self.programs: dict[tuple[str, tuple[str, ...]], cl.Program] = {}
        if use_disk is None:
            use_disk = not pyopencl.characterize.has_src_build_cache(device.cl_device)
        self.use_disk = use_disk

    def program(self, source: str, options: tuple[str, ...] = (), name: str = "") -> cl.Program:
        """The built program for source; builds (or loads a binary) only on a memory miss."""
        key = (source, tuple(options))
        prg = self.programs.get(key)
        if prg is None:
            prg = self._build(source, key[1], name)
            self.programs[key] = prg
            self.device.stats["builds"] += 1
        return prg

    def kernel(self, source: str, name: str, options: tuple[str, ...] = ()) -> cl.Kernel:
        """A new cl.Kernel for entry point name (each call a fresh object with its own args)."""
        prg = self.program(source, options, name)
        try:
            return cl.Kernel(prg, name)
        except cl.LogicError:
            names = prg.get_info(cl.program_info.KERNEL_NAMES)
            raise ValueError(
                f"the program has no kernel named {name!r}; it defines: {names or 'none'}"
            ) from None

    def _disk_path(self, source: str, options: tuple[str, ...]) -> Path:
        """Binary file for this source on this device and driver."""
        dev = self.device
        ident = "\0".join(
            (
                dev.platform_name,
                dev.platform_version,
                dev.name,
                dev.driver_version,
                cl.VERSION_TEXT,
                *options,
                source,
            )
        )
        digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return cache_dir() / "binaries" / f"{digest}.bin"

    def _build(self, source: str, options: tuple[str, ...], name: str) -> cl.Program:
        """Build from the disk binary if there is one, else from source."""
        ctx, cl_dev = self.device.context, self.device.cl_device
        path = self._disk_path(source, options) if self.use_disk else None
        if path is not None and path.is_file():
            try:
                prg = cl.Program(ctx, [cl_dev], [path.read_bytes()]).build(list(options))
                self.device.stats["binary_loads"] += 1
                return prg
            except (cl.Error, OSError):
                pass  # stale or corrupt binary: rebuild from source and overwrite it
        prg = _uncached_program(ctx, source)
        try:
            with warnings.catch_warnings():
                # pyopencl warns with the whole log when a build emits warnings; keep quiet.
                warnings.simplefilter("ignore", cl.CompilerWarning)
                prg.build(list(options))
        except cl.RuntimeError as err:
            raise self._failure(source, options, name, prg, err) from None
        if path is not None:
            try:
                _write_atomic(path, prg.get_info(cl.program_info.BINARIES)[0])
            except OSError:
                pass  # a read-only cache dir only costs a rebuild next time
        return prg

    def _failure(self, source, options, name, prg, err) -> KernelBuildError:
        """KernelBuildError for a failed build, with the source saved for inspection."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                log = prg.get_build_info(self.device.cl_device, cl.program_build_info.LOG)
        except cl.Error:
            log = ""
        log = log or str(err)
        label = "".join(c if c.isalnum() or c in "_-" else "_" for c in name or "program")
        digest = hashlib.sha256(source.encode()).hexdigest()[:12]
        fname = f"{label}-{digest}.cl"
        for folder in (cache_dir() / "failed", Path(tempfile.gettempdir()) / "clflow-failed"):
            try:
                _write_atomic(folder / fname, source.encode())
                path = str(folder / fname)
                break
            except OSError:
                continue
        else:
            path = "(could not be written)"
        return KernelBuildError(name or "?", log, path, options)
