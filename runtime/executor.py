"""Running an executable: bind buffers once where possible, then enqueue launches back to back.

The executable comes from clflow.compiler.executable but is read by attribute only (the runtime
never imports the compiler): kernels[i].name/.source/.options, launches[i].kernel/.args/
.global_size/.local_size/.label/.flops/.nbytes, slots[i].nbytes/.role, inputs, outputs, consts.
An argument with a .slot attribute is a buffer; otherwise it has .dtype and .value.
"""

from __future__ import annotations

import numpy as np
import pyopencl as cl

_SCALARS = {"int32": np.int32, "float32": np.float32, "uint32": np.uint32, "int64": np.int64}
_ROLES = ("input", "output", "temp", "const")


class Runner:
    """A prepared executable on one device; run() it as often as needed.

    Each launch owns a cl.Kernel whose constant arguments (temps, consts, scalars) are set
    once; run() only rebinds input and output buffers, so the per-run Python work is a few
    set_arg calls plus one enqueue per launch.

    Attributes:
        last_profile: [(label, seconds)] of the last run(profile=True).
    """

    def __init__(self, device, executable) -> None:
        self.device = device
        self.executable = executable
        self.last_profile: list[tuple[str, float]] = []
        slots = executable.slots
        for i, s in enumerate(slots):
            if s.role not in _ROLES:
                raise ValueError(f"slot {i} has role {s.role!r}; expected one of {_ROLES}")
        role_inputs = [i for i, s in enumerate(slots) if s.role == "input"]
        if sorted(executable.inputs) != role_inputs:
            raise ValueError(
                f"executable.inputs {executable.inputs} must list each 'input' slot "
                f"{role_inputs} exactly once"
            )
        self._input_nbytes = [slots[i].nbytes for i in executable.inputs]
        input_pos = {slot: k for k, slot in enumerate(executable.inputs)}
        out_slots = [i for i, s in enumerate(slots) if s.role == "output"]
        out_pos = {slot: k for k, slot in enumerate(out_slots)}
        self._output_nbytes = [slots[i].nbytes for i in out_slots]
        # Where each returned buffer comes from: ("in", k) = caller's k-th input, else ("out", k).
        self._result_plan = []
        for i in executable.outputs:
            if slots[i].role == "input":
                self._result_plan.append((True, input_pos[i]))
            elif slots[i].role == "output":
                self._result_plan.append((False, out_pos[i]))
            else:
                raise ValueError(
                    f"graph output slot {i} has role {slots[i].role!r}: the runner owns it and "
                    "would overwrite it next run; expected an 'output' or 'input' slot"
                )
        # Runner-owned buffers, kept alive as long as the kernels that point at them.
        self._owned: dict[int, object] = {}
        for i, s in enumerate(slots):
            if s.role == "temp":
                self._owned[i] = device.alloc(s.nbytes)
            elif s.role == "const":
                if i not in executable.consts:
                    raise ValueError(f"const slot {i} has no data in executable.consts")
                data = np.ascontiguousarray(executable.consts[i])
                if data.nbytes != s.nbytes:
                    raise ValueError(
                        f"const slot {i} is {s.nbytes} bytes but its data has {data.nbytes} "
                        f"(shape {data.shape}, {data.dtype})"
                    )
                self._owned[i] = device.upload(data)
        programs = [
            device.programs.program(k.source, tuple(k.options), k.name) for k in executable.kernels
        ]
        self._launches = []  # (cl.Kernel, global_size, local_size)
        self._in_binds = []  # (kernel.set_arg, arg index, input position)
        self._out_binds = []  # (kernel.set_arg, arg index, output position)
        self._labels = []
        self._kept = []  # the Launch of each entry of self._launches
        for n, launch in enumerate(executable.launches):
            ks = executable.kernels[launch.kernel]
            kern = cl.Kernel(programs[launch.kernel], ks.name)
            if kern.num_args != len(launch.args):
                raise ValueError(
                    f"launch {n} ({launch.label or ks.name}) passes {len(launch.args)} "
                    f"arguments but kernel {ks.name!r} takes {kern.num_args}"
                )
            for a, arg in enumerate(launch.args):
                slot = getattr(arg, "slot", None)
                if slot is None:
                    if arg.dtype not in _SCALARS:
                        raise ValueError(
                            f"launch {n} argument {a}: scalar dtype {arg.dtype!r} not in "
                            f"{sorted(_SCALARS)}"
                        )
                    kern.set_arg(a, _SCALARS[arg.dtype](arg.value))
                elif not 0 <= slot < len(slots):
                    raise ValueError(
                        f"launch {n} argument {a} uses slot {slot}; there are {len(slots)} slots"
                    )
                elif slot in self._owned:
                    kern.set_arg(a, self._owned[slot].buf)
                elif slot in input_pos:
                    self._in_binds.append((kern.set_arg, a, input_pos[slot]))
                else:
                    self._out_binds.append((kern.set_arg, a, out_pos[slot]))
            gsize = tuple(int(g) for g in launch.global_size)
            lsize = None if launch.local_size is None else tuple(int(x) for x in launch.local_size)
            if not 1 <= len(gsize) <= 3 or (lsize is not None and len(lsize) != len(gsize)):
                raise ValueError(
                    f"launch {n} ({launch.label or ks.name}): global size {gsize} and local "
                    f"size {lsize} must have the same 1 to 3 dimensions"
                )
            if 0 in gsize:
                continue  # an empty NDRange does nothing, and OpenCL rejects enqueuing it
            self._launches.append((kern, gsize, lsize))
            self._labels.append(launch.label or ks.name)
            self._kept.append(launch)

    def run(self, inputs: list, profile: bool = False) -> list:
        """Enqueue the whole executable on the given input buffers, without waiting.

        Args:
            inputs: one DeviceBuffer per executable input, of exactly its slot's nbytes.
            profile: wait for each launch and record times in self.last_profile.

        Returns:
            The output DeviceBuffers in executable.outputs order (an input slot listed as an
            output returns the caller's own buffer; a slot listed twice, the same object).

        Example:
            >>> runner = device.prepare(executable)  # doctest: +SKIP
            >>> (out,) = runner.run([device.upload(x)])  # doctest: +SKIP
        """
        device = self.device
        if len(inputs) != len(self._input_nbytes):
            raise ValueError(
                f"run: the executable takes {len(self._input_nbytes)} inputs, got {len(inputs)}"
            )
        for k, (buf, need) in enumerate(zip(inputs, self._input_nbytes, strict=True)):
            if buf.nbytes != need or buf.device is not device or buf.buf is None:
                raise ValueError(self._bad_input(k, buf, need))
        alloc = device.pool.alloc
        outs = [alloc(n) for n in self._output_nbytes]
        for set_arg, a, k in self._in_binds:
            set_arg(a, inputs[k].buf)
        for set_arg, a, k in self._out_binds:
            set_arg(a, outs[k].buf)
        if profile:
            self._run_profiled()
        else:
            queue, enqueue = device.queue, cl.enqueue_nd_range_kernel
            for kern, gsize, lsize in self._launches:
                enqueue(queue, kern, gsize, lsize)
        device.stats["launches"] += len(self._launches)
        return [inputs[k] if is_input else outs[k] for is_input, k in self._result_plan]

    def _bad_input(self, k: int, buf, need: int) -> str:
        """The message for an input buffer that does not fit slot k."""
        if getattr(buf, "buf", None) is None:
            return f"run: input {k} was released"
        if buf.device is not self.device:
            return f"run: input {k} lives on {buf.device!r}, not on {self.device!r}"
        return f"run: input {k} has {buf.nbytes} bytes, expected {need}"

    def _run_profiled(self) -> None:
        """Run the launches on the profiling queue, waiting, and record per-launch seconds."""
        device = self.device
        device.finish()  # the profiling queue is separate: order it after earlier work
        queue = device.profile_queue
        events = [cl.enqueue_nd_range_kernel(queue, k, g, lo) for k, g, lo in self._launches]
        queue.finish()  # and later work (on device.queue) after it
        self.last_profile = [
            (label, (ev.profile.end - ev.profile.start) * 1e-9)
            for label, ev in zip(self._labels, events, strict=True)
        ]

    def profile_table(self) -> str:
        """The last profile as text: time, GFLOP/s and GB/s per launch."""
        rows = []
        launches = self._kept
        total = sum(t for _, t in self.last_profile)
        for (label, t), launch in zip(self.last_profile, launches, strict=True):
            gflops = launch.flops / t * 1e-9 if t and launch.flops else 0.0
            gbs = launch.nbytes / t * 1e-9 if t and launch.nbytes else 0.0
            rows.append(f"{t * 1e6:10.1f} us {gflops:8.2f} GFLOP/s {gbs:8.2f} GB/s  {label}")
        rows.append(f"{total * 1e6:10.1f} us total over {len(self.last_profile)} launches")
        return "\n".join(rows)

    @property
    def num_launches(self) -> int:
        """Kernel launches per run."""
        return len(self._launches)
