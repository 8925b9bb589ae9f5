"""Activation functions by TF.js name, built from tensor ops so the compiler can fuse them."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import clflow as tf

from ._options import Registry, install_aliases, to_snake

Activation = Callable[[Any], Any]


def linear(x: Any) -> Any:
    """Identity."""
    return x


def relu(x: Any) -> Any:
    """max(x, 0)."""
    return tf.relu(x)


def relu6(x: Any) -> Any:
    """min(max(x, 0), 6)."""
    return tf.relu6(x)


def elu(x: Any) -> Any:
    """x if x > 0 else exp(x) - 1."""
    return tf.elu(x)


def selu(x: Any) -> Any:
    """Scaled ELU (Klambauer et al.)."""
    return tf.selu(x)


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x))."""
    return tf.sigmoid(x)


def hard_sigmoid(x: Any) -> Any:
    """TF.js's piecewise-linear sigmoid: clip(0.2 * x + 0.5, 0, 1)."""
    return tf.clip_by_value(tf.add(tf.mul(x, 0.2), 0.5), 0.0, 1.0)


def softmax(x: Any, axis: int = -1) -> Any:
    """exp(x) / sum(exp(x)) along ``axis``."""
    return tf.softmax(x, axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """log(softmax(x)) along ``axis``, computed stably."""
    return tf.log_softmax(x, axis)


def softplus(x: Any) -> Any:
    """log(1 + exp(x))."""
    return tf.softplus(x)


def softsign(x: Any) -> Any:
    """x / (|x| + 1)."""
    return tf.div(x, tf.add(tf.abs(x), 1.0))


def tanh(x: Any) -> Any:
    """Hyperbolic tangent."""
    return tf.tanh(x)


def swish(x: Any) -> Any:
    """x * sigmoid(x)."""
    return tf.mul(tf.sigmoid(x), x)


def mish(x: Any) -> Any:
    """x * tanh(softplus(x))."""
    return tf.mul(x, tf.tanh(tf.softplus(x)))


def _erf(x: Any) -> Any:
    """erf from the engine, or Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7) from basic ops."""
    if hasattr(tf, "erf"):
        return tf.erf(x)
    coeffs = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
    ax = tf.abs(x)
    t = tf.div(1.0, tf.add(tf.mul(ax, 0.3275911), 1.0))
    poly = tf.mul(t, coeffs[0])
    for c in coeffs[1:]:
        poly = tf.mul(tf.add(poly, c), t)
    y = tf.sub(1.0, tf.mul(poly, tf.exp(tf.neg(tf.mul(ax, ax)))))
    sign = tf.sub(tf.mul(tf.cast(tf.greater_equal(x, 0.0), "float32"), 2.0), 1.0)
    return tf.mul(sign, y)


def gelu(x: Any) -> Any:
    """TF.js's exact GELU: x * 0.5 * (1 + erf(x / sqrt(2)))."""
    cdf = tf.mul(tf.add(_erf(tf.div(x, math.sqrt(2.0))), 1.0), 0.5)
    return tf.mul(x, cdf)


def gelu_new(x: Any) -> Any:
    """TF.js's tanh-approximated GELU ('gelu_new')."""
    inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3.0), 0.044715)), math.sqrt(2.0 / math.pi))
    return tf.mul(tf.mul(x, tf.add(tf.tanh(inner), 1.0)), 0.5)


_REGISTRY = Registry("activation")
for _fn in (
    linear, relu, relu6, elu, selu, sigmoid, hard_sigmoid, softmax, log_softmax, softplus,
    softsign, tanh, swish, mish, gelu, gelu_new,
):  # fmt: skip
    _camel = "".join(p if i == 0 else p.title() for i, p in enumerate(_fn.__name__.split("_")))
    _REGISTRY.add(_fn, _camel if _fn is not gelu_new else "gelu_new", _fn.__name__)


def get(identifier: str | Activation | None) -> Activation:
    """Resolve ``'relu'``, ``'hardSigmoid'``/``'hard_sigmoid'``, a callable, or None (linear).

    Args:
        identifier: activation name in TF.js or Keras spelling, a callable, or None.

    Example:
        >>> get('logSoftmax') is log_softmax
        True
    """
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    return _REGISTRY.get(identifier)


def serialize(fn: Activation) -> str:
    """The snake_case name written in model.json (``'hard_sigmoid'``)."""
    if getattr(fn, "__module__", None) == __name__:
        return fn.__name__
    name = getattr(fn, "__name__", None)
    if name in _REGISTRY:
        return to_snake(name)
    raise ValueError(
        f"Cannot serialise custom activation {fn!r}: only named activations can be saved"
    )


def names() -> list[str]:
    """Valid activation identifiers (camelCase)."""
    return _REGISTRY.names()


install_aliases(sys.modules[__name__], ["hard_sigmoid", "log_softmax", "gelu_new"])
