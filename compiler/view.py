"""Strided views: how a movement op's result maps onto its base buffer (no copy).

reshape / transpose / slice / broadcast_to / reverse become a View over a materialised buffer;
the kernels that read them compute ``offset + sum(index_k * stride_k)``. A reshape of a
non-contiguous view is the one case that needs a copy first (``reshape`` returns None).

An *indexed* view also reads some axes through an int32 index vector: ``gather(x, idx)`` along
``axis`` with a 1-D ``idx`` is x's view whose coordinate on that axis is ``idx[c]`` (clamped to
x's extent, as the gather op), so a kernel reading ``x[idx]`` needs no gathered copy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


def canonical_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc if s != 1 else 0)
        acc *= s
    return tuple(reversed(strides))


@dataclass(frozen=True)
class Index:
    """Axis ``axis`` of a view reads coordinate ``clamp(idx[c], 0, bound - 1)`` of its base,
    where ``idx`` is the 1-D strided ``view`` of the int32 buffer ``base``."""

    axis: int
    base: int
    view: View
    bound: int


@dataclass(frozen=True)
class View:
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    offset: int = 0
    index: tuple[Index, ...] = ()  # indexed axes (strides[axis] is the base's stride there)

    @staticmethod
    def contiguous(shape: tuple[int, ...]) -> View:
        return View(tuple(shape), canonical_strides(tuple(shape)), 0)

    def norm_strides(self) -> tuple[int, ...]:
        return tuple(0 if s == 1 else st for s, st in zip(self.shape, self.strides, strict=True))

    @property
    def is_contiguous(self) -> bool:
        return not self.index and self.norm_strides() == canonical_strides(self.shape)

    @property
    def is_plain(self) -> bool:
        """Contiguous and starting at the buffer's first element: the buffer itself."""
        return self.offset == 0 and self.is_contiguous

    def indexed(self, axis: int) -> Index | None:
        return next((ix for ix in self.index if ix.axis == axis), None)

    def gather(self, axis: int, base: int, idx: View) -> View:
        """This view read along ``axis`` through the 1-D int32 indices ``idx`` of ``base``."""
        if len(idx.shape) != 1 or idx.index or self.indexed(axis) is not None:
            raise ValueError("gather views take a strided 1-D index on an axis not indexed yet")
        shape = self.shape[:axis] + idx.shape + self.shape[axis + 1 :]
        ix = Index(axis, base, idx, self.shape[axis])
        return View(shape, self.strides, self.offset, self.index + (ix,))

    def permute(self, perm: tuple[int, ...]) -> View:
        where = {p: j for j, p in enumerate(perm)}
        return View(
            tuple(self.shape[p] for p in perm),
            tuple(self.strides[p] for p in perm),
            self.offset,
            tuple(replace(ix, axis=where[ix.axis]) for ix in self.index),
        )

    def slice(self, begin: tuple[int, ...], size: tuple[int, ...]) -> View:
        off = self.offset
        index = []
        for a, (b, st) in enumerate(zip(begin, self.strides, strict=True)):
            ix = self.indexed(a)
            if ix is None:
                off += b * st
            else:  # slicing an indexed axis slices its indices
                index.append(replace(ix, view=ix.view.slice((b,), (size[a],))))
        return View(tuple(size), self.strides, off, tuple(index))

    def broadcast(self, shape: tuple[int, ...]) -> View:
        lead = len(shape) - len(self.shape)
        strides = [0] * lead
        index = []
        for a, (s, st, t) in enumerate(zip(self.shape, self.strides, shape[lead:], strict=True)):
            ix = self.indexed(a)
            if ix is None:
                strides.append(0 if s == 1 and t != 1 else st)
            else:  # a broadcast indexed axis repeats its index, not the base's first row
                strides.append(st)
                index.append(replace(ix, axis=a + lead, view=ix.view.broadcast((t,))))
        return View(tuple(shape), tuple(strides), self.offset, tuple(index))

    def reverse(self, axes: tuple[int, ...]) -> View:
        plain = tuple(a for a in axes if self.indexed(a) is None)
        off = self.offset + sum((self.shape[a] - 1) * self.strides[a] for a in plain)
        strides = tuple(-st if i in plain else st for i, st in enumerate(self.strides))
        index = tuple(
            replace(ix, view=ix.view.reverse((0,))) if ix.axis in axes else ix for ix in self.index
        )
        return View(self.shape, strides, off, index)

    def reshape(self, shape: tuple[int, ...]) -> View | None:
        if self.index:
            return self._reshape_units(tuple(shape))
        if not self.is_contiguous:
            return None
        return View(tuple(shape), canonical_strides(tuple(shape)), self.offset)

    def _reshape_units(self, shape: tuple[int, ...]) -> View | None:
        """A reshape that only adds or drops unit axes, keeping the indexed ones (else None)."""
        old = [a for a, s in enumerate(self.shape) if s != 1]
        new = [a for a, s in enumerate(shape) if s != 1]
        if [self.shape[a] for a in old] != [shape[a] for a in new]:
            return None
        if any(self.shape[ix.axis] == 1 for ix in self.index):
            return None  # a lone index on a unit axis would be dropped
        where = dict(zip(old, new, strict=True))
        strides = [0] * len(shape)
        for a, b in where.items():
            strides[b] = self.strides[a]
        index = tuple(replace(ix, axis=where[ix.axis]) for ix in self.index)
        return View(shape, tuple(strides), self.offset, index)

    def span(self) -> tuple[int, int]:
        """Lowest and highest element offsets the view touches (for bounds checks in tests)."""
        lo = hi = self.offset
        for a, (s, st) in enumerate(zip(self.shape, self.strides, strict=True)):
            if s == 0:
                return self.offset, self.offset - 1
            ix = self.indexed(a)
            n = s if ix is None else ix.bound  # an index may reach any row of the base
            if st > 0:
                hi += (n - 1) * st
            else:
                lo += (n - 1) * st
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
