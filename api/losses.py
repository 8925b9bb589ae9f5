"""``tf.losses``: TF.js's loss functions with weights and reductions.

Every loss computes per-element (or per-example) values and hands them to
``compute_weighted_loss``, which applies the weights and the reduction exactly as TF.js does:
the default reduction is ``SUM_BY_NONZERO_WEIGHTS``; with weights, ``MEAN`` divides by the sum
of the (broadcast) weights and ``SUM_BY_NONZERO_WEIGHTS`` by the count of non-zero weights.
"""

from __future__ import annotations

import enum
import sys
from typing import Any

import numpy as np

from ._options import install_aliases
from .ops import abs as abs_
from .ops import (
    broadcast_to,
    cast,
    div,
    exp,
    log,
    log1p,
    log_softmax,
    minimum,
    not_equal,
    relu,
    square,
    squared_difference,
)
from .ops import sum as sum_
from .tensor import Tensor, tensor


class Reduction(enum.IntEnum):
    """How a loss reduces its per-element values (TF.js's ``tf.Reduction``)."""

    NONE = 0
    MEAN = 1
    SUM = 2
    SUM_BY_NONZERO_WEIGHTS = 3


def _reduction(reduction: Any, fn: str) -> Reduction:
    """A Reduction from an enum member, an int 0-3 or a name such as ``'mean'``."""
    if isinstance(reduction, str) and reduction.upper() in Reduction.__members__:
        return Reduction[reduction.upper()]
    if isinstance(reduction, int | np.integer) and not isinstance(reduction, bool):
        try:
            return Reduction(int(reduction))
        except ValueError:
            pass
    choices = ", ".join(f"Reduction.{r.name} ({r.value})" for r in Reduction)
    raise ValueError(f"{fn}: unknown reduction {reduction!r}; expected one of {choices}")


def _float(x: Any, what: str, fn: str) -> Tensor:
    if x is None:
        raise TypeError(f"{fn}: {what} is required, got None")
    t = x if isinstance(x, Tensor) else tensor(x)
    return t if t.dtype == "float32" else cast(t, "float32")


def _same_shape(a: Tensor, b: Tensor, names: tuple[str, str], fn: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"Error in {fn}: {names[0]} shape {a.shape} and {names[1]} shape {b.shape} must match"
        )


def compute_weighted_loss(
    losses: Any, weights: Any = None, reduction: Any = Reduction.SUM_BY_NONZERO_WEIGHTS
) -> Tensor:
    """Weight per-element losses and reduce them (TF.js's ``tf.losses.computeWeightedLoss``).

    Args:
        losses: per-element loss values.
        weights: optional weights broadcastable to ``losses`` (a tensor, array or number).
        reduction: a ``Reduction`` (or its int 0-3); default ``SUM_BY_NONZERO_WEIGHTS``.

    Example:
        >>> l = tf.losses.compute_weighted_loss(tf.tensor([1, 2, 3]), tf.tensor([1, 0, 1]))
        >>> l.print()   # (1 + 3) / 2 = 2
    """
    fn = "compute_weighted_loss"
    red = _reduction(reduction, fn)
    losses = _float(losses, "losses", fn)
    if weights is None:
        if red == Reduction.NONE:
            return losses
        total = sum_(losses)
        if red == Reduction.SUM:
            return total
        return div(total, float(losses.size))  # 0 / 0 = NaN for an empty loss, like TF.js
    w = _float(weights, "weights", fn)
    try:
        full = tuple(np.broadcast_shapes(tuple(losses.shape), tuple(w.shape)))
    except ValueError:
        raise ValueError(
            f"{fn}: weights of shape {w.shape} do not broadcast with losses of "
            f"shape {losses.shape} (operands could not be broadcast together)"
        ) from None
    weighted = losses * w
    if red == Reduction.NONE:
        return weighted
    total = sum_(weighted)
    if red == Reduction.SUM:
        return total
    if red == Reduction.MEAN:
        out = div(total, sum_(w))
        factor = losses.size / w.size if w.size else 1.0
        return div(out, factor) if factor > 1 else out
    nonzero = sum_(cast(not_equal(broadcast_to(w, full), 0.0), "float32"))
    return div(total, nonzero)


def softmax_cross_entropy(
    onehot_labels: Any,
    logits: Any,
    weights: Any = None,
    label_smoothing: float = 0,
    reduction: Any = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    """Cross-entropy of ``softmax(logits)`` against the labels, over the last axis.

    Computed with ``log_softmax`` (stable for large logits); the gradient with respect to the
    logits is ``softmax(logits) * sum(labels) - labels`` (scaled by the reduction), which is
    ``softmax - labels`` for labels that sum to one.

    Args:
        onehot_labels: target distributions, shape ``[batch, classes]`` (labels come first).
        logits: unnormalised scores of the same shape.
        weights: optional per-example weights (broadcast against shape ``[batch]``).
        label_smoothing: if > 0, labels become ``labels * (1 - s) + s / classes``.
        reduction: a ``Reduction``; default ``SUM_BY_NONZERO_WEIGHTS`` (the mean here).

    Example:
        >>> loss = tf.losses.softmax_cross_entropy(ys, model(xs))
        >>> loss.print()
    """
    fn = "softmaxCrossEntropy"
    labels = _float(onehot_labels, "onehot_labels", fn)
    logits = _float(logits, "logits", fn)
    _same_shape(labels, logits, ("labels", "logits"), fn)
    if not logits.rank:
        raise ValueError(f"Error in {fn}: logits must have a class axis, got a scalar")
    if label_smoothing:
        labels = labels * (1 - label_smoothing) + label_smoothing / labels.shape[-1]
    losses = -sum_(labels * log_softmax(logits, -1), -1)
    return compute_weighted_loss(losses, weights, reduction)


def sigmoid_cross_entropy(
    multi_class_labels: Any,
    logits: Any,
    weights: Any = None,
    label_smoothing: float = 0,
    reduction: Any = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    """Element-wise cross-entropy of ``sigmoid(logits)`` against labels in [0, 1].

    Uses the stable form ``max(x, 0) - x * z + log1p(exp(-|x|))``.

    Args:
        multi_class_labels: targets ``z``, same shape as the logits.
        logits: unnormalised scores ``x``.
        weights: optional weights broadcastable to the logits' shape.
        label_smoothing: if > 0, labels become ``labels * (1 - s) + s / 2``.
        reduction: a ``Reduction``; default ``SUM_BY_NONZERO_WEIGHTS``.

    Example:
        >>> tf.losses.sigmoid_cross_entropy(tf.tensor([1, 0]), tf.tensor([2.0, -1.0])).print()
    """
    fn = "sigmoidCrossEntropy"
    z = _float(multi_class_labels, "multi_class_labels", fn)
    x = _float(logits, "logits", fn)
    _same_shape(z, x, ("labels", "logits"), fn)
    if label_smoothing:
        z = z * (1 - label_smoothing) + 0.5 * label_smoothing
    ax = abs_(x)
    # max(x, 0) written as (x + |x|) / 2 (exact in float): the |x| terms then have zero slope
    # at x = 0, so the gradient there is 0.5 - z whatever subgradient abs uses.
    losses = (x + ax) * 0.5 - x * z + log1p(exp(-ax))
    return compute_weighted_loss(losses, weights, reduction)


def _pair(labels: Any, predictions: Any, fn: str) -> tuple[Tensor, Tensor]:
    y = _float(labels, "labels", fn)
    p = _float(predictions, "predictions", fn)
    _same_shape(y, p, ("labels", "predictions"), fn)
    return y, p


def mean_squared_error(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    reduction: Any = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    """``(labels - predictions)^2``, weighted and reduced.

    Args:
        labels: targets.
        predictions: predicted values, same shape.
        weights: optional weights broadcastable to the labels' shape.
        reduction: a ``Reduction``; default ``SUM_BY_NONZERO_WEIGHTS``.

    Example:
        >>> tf.losses.mean_squared_error(tf.tensor([1, 2]), tf.tensor([1.5, 1])).print()
    """
    y, p = _pair(labels, predictions, "meanSquaredError")
    return compute_weighted_loss(squared_difference(y, p), weights, reduction)


def absolute_difference(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    reduction: Any = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    """``|labels - predictions|``, weighted and reduced.

    Args:
        labels: targets.
        predictions: predicted values, same shape.
        weights: optional weights broadcastable to the labels' shape.
        reduction: a ``Reduction``; default ``SUM_BY_NONZERO_WEIGHTS``.

    Example:
        >>> tf.losses.absolute_difference(tf.tensor([1, 2]), tf.tensor([1.5, 1])).print()
    """
    y, p = _pair(labels, predictions, "absoluteDifference")
    return compute_weighted_loss(abs_(y - p), weights, reduction)


def hinge_loss(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    reduction: Any = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    """``max(0, 1 - (2 * labels - 1) * predictions)`` for labels in {0, 1}.

    Args:
        labels: 0/1 targets.
        predictions: scores, same shape.
        weights: optional weights broadcastable to the labels' shape.
        reduction: a ``Reduction``; default ``SUM_BY_NONZERO_WEIGHTS``.

    Example:
        >>> tf.losses.hinge_loss(tf.tensor([1, 0]), tf.tensor([0.5, -2.0])).print()
    """
    y, p = _pair(labels, predictions, "hingeLoss")
    return compute_weighted_loss(relu(1.0 - (y * 2.0 - 1.0) * p), weights, reduction)


def huber_loss(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    delta: float = 1.0,
    reduction: Any = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    """Quadratic for errors up to ``delta``, linear beyond: ``0.5 q^2 + delta (|e| - q)``.

    Args:
        labels: targets.
        predictions: predicted values, same shape.
        weights: optional weights broadcastable to the labels' shape.
        delta: where the loss turns from quadratic to linear.
        reduction: a ``Reduction``; default ``SUM_BY_NONZERO_WEIGHTS``.

    Example:
        >>> tf.losses.huber_loss(tf.tensor([0, 0]), tf.tensor([0.5, 3.0])).print()
    """
    y, p = _pair(labels, predictions, "huberLoss")
    err = abs_(p - y)
    quad = minimum(err, float(delta))
    losses = square(quad) * 0.5 + (err - quad) * float(delta)
    return compute_weighted_loss(losses, weights, reduction)


def log_loss(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    epsilon: float = 1e-7,
    reduction: Any = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    """Binary cross-entropy of probabilities: ``-y log(p + eps) - (1 - y) log(1 - p + eps)``.

    Args:
        labels: 0/1 targets.
        predictions: probabilities, same shape.
        weights: optional weights broadcastable to the labels' shape.
        epsilon: added inside the logarithms.
        reduction: a ``Reduction``; default ``SUM_BY_NONZERO_WEIGHTS``.

    Example:
        >>> tf.losses.log_loss(tf.tensor([1, 0]), tf.tensor([0.9, 0.2])).print()
    """
    y, p = _pair(labels, predictions, "logLoss")
    eps = float(epsilon)
    losses = -(y * log(p + eps)) - (1.0 - y) * log(1.0 - p + eps)
    return compute_weighted_loss(losses, weights, reduction)


def cosine_distance(
    labels: Any,
    predictions: Any,
    axis: int,
    weights: Any = None,
    reduction: Any = Reduction.SUM_BY_NONZERO_WEIGHTS,
) -> Tensor:
    """``1 - sum(labels * predictions, axis)`` for unit-normalised inputs (axis kept).

    Args:
        labels: unit vectors along ``axis``.
        predictions: unit vectors, same shape.
        axis: the vector axis; it is kept with size 1 in the unreduced loss (TF.js).
        weights: optional weights broadcastable to the unreduced loss.
        reduction: a ``Reduction``; default ``SUM_BY_NONZERO_WEIGHTS``.

    Example:
        >>> tf.losses.cosine_distance(tf.tensor([[1, 0]]), tf.tensor([[0.6, 0.8]]), 1).print()
    """
    y, p = _pair(labels, predictions, "cosineDistance")
    if axis is None:
        raise TypeError("cosineDistance: axis is required (the axis that holds the vectors)")
    losses = 1.0 - sum_(y * p, int(axis), True)
    return compute_weighted_loss(losses, weights, reduction)


_PUBLIC = [
    "compute_weighted_loss",
    "softmax_cross_entropy",
    "sigmoid_cross_entropy",
    "mean_squared_error",
    "absolute_difference",
    "hinge_loss",
    "huber_loss",
    "log_loss",
    "cosine_distance",
]
install_aliases(sys.modules[__name__], _PUBLIC)
