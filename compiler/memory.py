"""Memory planning: map virtual buffers onto slots, reusing temporaries by liveness.

Whole buffers only (sub-buffers of one arena are unreliable across drivers, DESIGN.md). A temp
whose last reader has run hands its slot to the next temp of the same size.
"""

from __future__ import annotations

from .executable import Slot


def plan(vbufs, launches, outputs) -> tuple[list[int], list[Slot], dict]:
    """Returns (slot of each vbuf, the slots, stats with peak and naive temp bytes)."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for i, vl in enumerate(launches):
        for a in vl.args:
            if isinstance(a, tuple):
                first.setdefault(a[1], i)
                last[a[1]] = i
    slot_of = [-1] * len(vbufs)
    slots: list[Slot] = []
    free: dict[int, list[int]] = {}
    # Inputs and outputs keep their own slots, in graph order for readability.
    for role in ("input", "output"):
        for v in sorted(
            (v for v, b in enumerate(vbufs) if b.role == role), key=lambda v: vbufs[v].index
        ):
            b = vbufs[v]
            slot_of[v] = len(slots)
            slots.append(Slot(b.nbytes, role, b.dtype, b.shape))
    ends: dict[int, list[int]] = {}
    for v, b in enumerate(vbufs):
        if b.role == "temp" and v in last:
            ends.setdefault(last[v], []).append(v)
    temps_sorted = sorted(
        (v for v, b in enumerate(vbufs) if b.role == "temp" and v in first), key=lambda v: first[v]
    )
    by_first: dict[int, list[int]] = {}
    for v in temps_sorted:
        by_first.setdefault(first[v], []).append(v)
    for i in range(len(launches)):
        for v in by_first.get(i, []):
            b = vbufs[v]
            pool = free.get(b.nbytes)
            if pool:
                slot_of[v] = pool.pop()
            else:
                slot_of[v] = len(slots)
                slots.append(Slot(b.nbytes, "temp", b.dtype, b.shape))
        for v in ends.get(i, []):
            free.setdefault(vbufs[v].nbytes, []).append(slot_of[v])
    naive = sum(b.nbytes for b in vbufs if b.role == "temp")
    peak = sum(s.nbytes for s in slots)
    return (
        slot_of,
        slots,
        {
            "peak_bytes": peak,
            "temp_bytes_unplanned": naive,
            "temp_bytes": sum(s.nbytes for s in slots if s.role == "temp"),
        },
    )
