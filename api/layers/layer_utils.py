"""Model summary table, printed exactly as TF.js 4.x's ``model.summary()`` (layer_utils.ts)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .base import shape_str


def print_summary(
    model: Any,
    line_length: int | None = None,
    positions: Sequence[float] | None = None,
    print_fn: Callable[[str], Any] | None = None,
) -> None:
    """Print the sequential-layout summary of ``model`` line by line through ``print_fn``."""
    print_fn = print if print_fn is None else print_fn
    line_length = line_length or 90
    positions = list(positions or [0.32, 0.61, 0.89, 1])
    if positions[-1] <= 1:
        positions = [math.floor(line_length * p) for p in positions]
    print_fn("_" * line_length)
    _print_row(["Layer (type)", "Input Shape", "Output shape", "Param #"], positions, print_fn)
    print_fn("=" * line_length)
    for i, layer in enumerate(model._layers):
        try:
            in_shape = ",".join(shape_str([c[0]]) for c in layer._inbound)
        except (TypeError, ValueError):
            in_shape = "multiple"
        try:
            out_shape = shape_str(layer.output_shape)
        except AttributeError:
            out_shape = "multiple"
        fields = [
            f"{layer.name} ({layer.get_class_name()})",
            in_shape,
            out_shape,
            str(layer.count_params()),
        ]
        _print_row(fields, positions, print_fn)
        print_fn(("=" if i == len(model._layers) - 1 else "_") * line_length)
    trainable = sum(_size(w) for w in model.trainable_weights)
    frozen = sum(_size(w) for w in model.non_trainable_weights)
    print_fn(f"Total params: {trainable + frozen}")
    print_fn(f"Trainable params: {trainable}")
    print_fn(f"Non-trainable params: {frozen}")
    print_fn("_" * line_length)


def _size(w: Any) -> int:
    return int(math.prod(w.shape))


def _print_row(fields: Sequence[str], positions: Sequence[int], print_fn: Callable) -> None:
    """TF.js's printRow: each field cut or padded to end at its column position."""
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line += field
        line = line[: positions[i]]
        line += " " * (positions[i] - len(line))
    print_fn(line)
