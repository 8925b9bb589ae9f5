"""Weight constraints (``tf.constraints``): projections applied after each update, as TF.js."""

from __future__ import annotations

import sys
from typing import Any

import clflow as tf

from ._options import Registry, install_aliases, tfjs_options, to_snake

EPSILON = 1e-7  # TF.js's backend epsilon(), added to norms before dividing


def _l2_norms(w: Any, axis: int) -> Any:
    """sqrt(sum(w^2)) along ``axis``, kept for broadcasting."""
    return tf.sqrt(tf.sum(tf.mul(w, w), axis, True))


class Constraint:
    """Base class: ``constraint(w)`` returns the projected tensor."""

    class_name = "Constraint"

    def __call__(self, w: Any) -> Any:
        raise NotImplementedError

    def apply(self, w: Any) -> Any:
        """Same as calling the constraint."""
        return self(w)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as written in model.json (snake_case)."""
        return {}

    def get_class_name(self) -> str:
        """Class name written in model.json."""
        return self.class_name

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescale slices along ``axis`` whose L2 norm exceeds ``max_value``."""

    class_name = "MaxNorm"

    def __init__(self, max_value: float = 2.0, axis: int = 0) -> None:
        self.max_value, self.axis = max_value, axis

    def __call__(self, w: Any) -> Any:
        norms = _l2_norms(w, self.axis)
        desired = tf.clip_by_value(norms, 0.0, self.max_value)
        return tf.mul(w, tf.div(desired, tf.add(norms, EPSILON)))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Move slice norms toward [min_value, max_value] at ``rate``."""

    class_name = "MinMaxNorm"

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, axis: int = 0, rate: float = 1.0
    ) -> None:
        self.min_value, self.max_value, self.axis, self.rate = min_value, max_value, axis, rate

    def __call__(self, w: Any) -> Any:
        norms = _l2_norms(w, self.axis)
        clipped = tf.clip_by_value(norms, self.min_value, self.max_value)
        desired = tf.add(tf.mul(clipped, self.rate), tf.mul(norms, 1.0 - self.rate))
        return tf.mul(w, tf.div(desired, tf.add(norms, EPSILON)))

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


class NonNeg(Constraint):
    """Clamp weights at zero from below."""

    class_name = "NonNeg"

    def __call__(self, w: Any) -> Any:
        return tf.relu(w)


class UnitNorm(Constraint):
    """Divide slices along ``axis`` by their L2 norm."""

    class_name = "UnitNorm"

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        return tf.div(w, tf.add(_l2_norms(w, self.axis), EPSILON))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


@tfjs_options()
def max_norm(max_value: float = 2.0, axis: int = 0) -> MaxNorm:
    """Max-norm constraint.

    Args:
        max_value: largest allowed L2 norm (default 2).
        axis: axis along which norms are computed (default 0: each column of a dense kernel).

    Example:
        >>> c = tf.constraints.max_norm({'maxValue': 1})
        >>> c(tf.tensor([[3.0], [4.0]])).numpy().ravel()   # [0.6, 0.8]
    """
    return MaxNorm(max_value, axis)


@tfjs_options()
def min_max_norm(
    min_value: float = 0.0, max_value: float = 1.0, axis: int = 0, rate: float = 1.0
) -> MinMaxNorm:
    """Min-max-norm constraint.

    Args:
        min_value: smallest allowed norm. max_value: largest allowed norm.
        axis: norm axis. rate: 1 projects fully, below 1 moves part of the way.

    Example:
        >>> c = tf.constraints.min_max_norm({'minValue': 1, 'maxValue': 2})
        >>> c(tf.tensor([[0.3], [0.4]])).numpy().ravel()   # [0.6, 0.8]
    """
    return MinMaxNorm(min_value, max_value, axis, rate)


def non_neg() -> NonNeg:
    """Non-negativity constraint.

    Example:
        >>> tf.constraints.non_neg()(tf.tensor([-1.0, 2.0])).numpy()   # [0, 2]
    """
    return NonNeg()


@tfjs_options()
def unit_norm(axis: int = 0) -> UnitNorm:
    """Unit-norm constraint.

    Args:
        axis: axis along which norms are computed.

    Example:
        >>> tf.constraints.unit_norm()(tf.tensor([[3.0], [4.0]])).numpy().ravel()   # [0.6, 0.8]
    """
    return UnitNorm(axis)


_CLASSES = {c.class_name: c for c in (MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
_REGISTRY = Registry("constraint")
for _ident, _cls in [
    ("maxNorm", MaxNorm), ("minMaxNorm", MinMaxNorm), ("nonNeg", NonNeg), ("unitNorm", UnitNorm)
]:  # fmt: skip
    _REGISTRY.add(_cls, _ident, to_snake(_ident), _cls.class_name)


def get(identifier: str | dict | Constraint | None) -> Constraint | None:
    """Resolve ``'maxNorm'``/``'max_norm'``, a model.json dict or a constraint object."""
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier) and not isinstance(identifier, str):
        return identifier  # a user function w -> w
    return _REGISTRY.get(identifier)()


def serialize(c: Constraint | None) -> dict[str, Any] | None:
    """``{'class_name': ..., 'config': {...}}`` or None."""
    if c is None:
        return None
    if not isinstance(c, Constraint):
        raise ValueError(f"Cannot serialise custom constraint {c!r}")
    return {"class_name": c.get_class_name(), "config": c.get_config()}


def deserialize(config: dict[str, Any]) -> Constraint:
    """Rebuild a constraint from its model.json form."""
    name = config.get("class_name", config.get("className"))
    cls = _REGISTRY.get(str(name))
    kwargs = {to_snake(k): v for k, v in (config.get("config") or {}).items()}
    return cls(**kwargs)


install_aliases(sys.modules[__name__], ["max_norm", "min_max_norm", "non_neg", "unit_norm"])
