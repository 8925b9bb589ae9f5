"""Weight penalties (``tf.regularizers``): L1, L2 and L1L2 with TF.js defaults (0.01)."""

from __future__ import annotations

from typing import Any

import clflow as tf

from ._options import Registry, tfjs_options, to_snake


class L1L2:
    """Penalty ``l1 * sum(|x|) + l2 * sum(x^2)`` as a scalar tensor.

    Args:
        l1: L1 factor (TF.js default 0.01).
        l2: L2 factor (TF.js default 0.01).

    Example:
        >>> reg = L1L2(l1=0.0, l2=0.1)
        >>> reg(tf.tensor([1.0, 2.0])).numpy()   # 0.1 * 5
        0.5
    """

    class_name = "L1L2"

    def __init__(self, l1: float | None = 0.01, l2: float | None = 0.01) -> None:
        self.l1 = 0.01 if l1 is None else float(l1)
        self.l2 = 0.01 if l2 is None else float(l2)

    def __call__(self, x: Any) -> Any:
        penalty = tf.zeros([])
        if self.l1 != 0:
            penalty = tf.add(penalty, tf.sum(tf.mul(tf.abs(x), self.l1)))
        if self.l2 != 0:
            penalty = tf.add(penalty, tf.sum(tf.mul(tf.square(x), self.l2)))
        return penalty

    apply = __call__

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as written in model.json."""
        return {"l1": self.l1, "l2": self.l2}

    def get_class_name(self) -> str:
        """Class name written in model.json."""
        return self.class_name

    def __repr__(self) -> str:
        return f"L1L2(l1={self.l1}, l2={self.l2})"


@tfjs_options()
def l1(l1: float = 0.01) -> L1L2:
    """L1 penalty ``l1 * sum(|x|)``.

    Args:
        l1: factor (default 0.01).

    Example:
        >>> tf.regularizers.l1({'l1': 0.1})
        L1L2(l1=0.1, l2=0.0)
    """
    return L1L2(l1=l1, l2=0.0)


@tfjs_options()
def l2(l2: float = 0.01) -> L1L2:
    """L2 penalty ``l2 * sum(x^2)``.

    Args:
        l2: factor (default 0.01).

    Example:
        >>> tf.regularizers.l2({'l2': 0.1})
        L1L2(l1=0.0, l2=0.1)
    """
    return L1L2(l1=0.0, l2=l2)


@tfjs_options()
def l1l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """L1 + L2 penalty.

    Args:
        l1: L1 factor (default 0.01).
        l2: L2 factor (default 0.01).

    Example:
        >>> tf.regularizers.l1l2({'l1': 0.1, 'l2': 0.2})
        L1L2(l1=0.1, l2=0.2)
    """
    return L1L2(l1=l1, l2=l2)


_REGISTRY = Registry("regularizer")
_REGISTRY.add(L1L2, "l1l2", "L1L2")
_REGISTRY.add(l1, "l1")
_REGISTRY.add(l2, "l2")


def get(identifier: str | dict | L1L2 | None) -> L1L2 | None:
    """Resolve ``'l1l2'``, a model.json dict or a regularizer object."""
    if identifier is None or callable(identifier) and not isinstance(identifier, str | dict):
        return identifier  # type: ignore[return-value]
    if isinstance(identifier, dict):
        return deserialize(identifier)
    return _REGISTRY.get(identifier)()


def serialize(reg: L1L2 | None) -> dict[str, Any] | None:
    """``{'class_name': 'L1L2', 'config': {...}}`` or None."""
    if reg is None:
        return None
    if not hasattr(reg, "get_config"):
        raise ValueError(f"Cannot serialise custom regularizer {reg!r}")
    return {"class_name": reg.get_class_name(), "config": reg.get_config()}


def deserialize(config: dict[str, Any]) -> L1L2:
    """Rebuild a regularizer from its model.json form."""
    name = config.get("class_name", config.get("className"))
    if name != "L1L2":
        raise ValueError(f"Unknown regularizer class '{name}'. Valid regularizer classes: L1L2.")
    kwargs = {to_snake(k): v for k, v in (config.get("config") or {}).items()}
    return L1L2(**kwargs)
