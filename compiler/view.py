"""Strided views: how a movement op's result maps onto its base buffer (no copy).

reshape / transpose / slice / broadcast_to / reverse become a View over a materialised buffer;
the kernels that read them compute ``offset + sum(index_k * stride_k)``. A reshape of a
non-contiguous view is the one case that needs a copy first (``reshape`` returns None).
"""

from __future__ import annotations

from dataclasses import dataclass


def canonical_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc if s != 1 else 0)
        acc *= s
    return tuple(reversed(strides))


@dataclass(frozen=True)
class View:
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    offset: int = 0

    @staticmethod
    def contiguous(shape: tuple[int, ...]) -> View:
        return View(tuple(shape), canonical_strides(tuple(shape)), 0)

    def norm_strides(self) -> tuple[int, ...]:
        return tuple(0 if s == 1 else st for s, st in zip(self.shape, self.strides, strict=True))

    @property
    def is_contiguous(self) -> bool:
        return self.norm_strides() == canonical_strides(self.shape)

    @property
    def is_plain(self) -> bool:
        """Contiguous and starting at the buffer's first element: the buffer itself."""
        return self.offset == 0 and self.is_contiguous

    def permute(self, perm: tuple[int, ...]) -> View:
        return View(
            tuple(self.shape[p] for p in perm), tuple(self.strides[p] for p in perm), self.offset
        )

    def slice(self, begin: tuple[int, ...], size: tuple[int, ...]) -> View:
        off = self.offset + sum(b * st for b, st in zip(begin, self.strides, strict=True))
        return View(tuple(size), self.strides, off)

    def broadcast(self, shape: tuple[int, ...]) -> View:
        lead = len(shape) - len(self.shape)
        strides = [0] * lead + [
            0 if s == 1 and t != 1 else st
            for s, st, t in zip(self.shape, self.strides, shape[lead:], strict=True)
        ]
        return View(tuple(shape), tuple(strides), self.offset)

    def reverse(self, axes: tuple[int, ...]) -> View:
        off = self.offset + sum((self.shape[a] - 1) * self.strides[a] for a in axes)
        strides = tuple(-st if i in axes else st for i, st in enumerate(self.strides))
        return View(self.shape, strides, off)

    def reshape(self, shape: tuple[int, ...]) -> View | None:
        if not self.is_contiguous:
            return None
        return View(tuple(shape), canonical_strides(tuple(shape)), self.offset)

    def span(self) -> tuple[int, int]:
        """Lowest and highest element offsets the view touches (for bounds checks in tests)."""
        lo = hi = self.offset
        for s, st in zip(self.shape, self.strides, strict=True):
            if s == 0:
                return self.offset, self.offset - 1
            if st > 0:
                hi += (s - 1) * st
            else:
                lo += (s - 1) * st
        return lo, hi


def apply_movement(view: View, op: str, attrs: dict, out_shape: tuple[int, ...]) -> View | None:
    """The view after one movement op, or None when it is not a strided view of the same data."""
    if op == "reshape":
        return view.reshape(out_shape)
    if op == "transpose":
        return view.permute(attrs["perm"])
    if op == "slice":
        return view.slice(attrs["begin"], attrs["size"])
    if op == "broadcast_to":
        return view.broadcast(out_shape)
    if op == "reverse":
        return view.reverse(attrs["axes"])
    raise ValueError(f"not a movement op: {op}")
