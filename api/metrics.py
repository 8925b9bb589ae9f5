"""Layers losses and metrics (``tf.metrics``): the functions ``compile`` resolves by name.

Every function takes ``(y_true, y_pred)`` and returns one value per sample (the last axis
reduced), as tfjs-layers does; the training loop averages them over the batch. Predictions are
clipped to ``[1e-7, 1 - 1e-7]`` before logs, and ``categorical_crossentropy`` rescales each row
of predictions to sum to 1, like TF.js.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import clflow as tf

from ._options import _did_you_mean, _fold, install_aliases
from .tensor import Tensor

EPSILON = 1e-7
LossOrMetric = Callable[[Tensor, Tensor], Tensor]


def _f32(x: Any) -> Tensor:
    x = x if isinstance(x, Tensor) else tf.tensor(x)
    return x if x.dtype == "float32" else tf.cast(x, "float32")


def _clip(x: Tensor, high: float = 1 - EPSILON) -> Tensor:
    return tf.clip_by_value(x, EPSILON, high)


def _l2_normalize(x: Tensor) -> Tensor:
    norm = tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, True), EPSILON))
    return tf.div(x, norm)


# -- losses (tfjs-layers losses.ts) ------------------------------------------------------------


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """Mean of ``(y_true - y_pred)^2`` over the last axis.

    Example:
        >>> tf.metrics.mean_squared_error(tf.tensor([[1.0, 2.0]]), tf.tensor([[1.0, 4.0]]))
    """
    return tf.mean(tf.square(tf.sub(_f32(y_true), _f32(y_pred))), -1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """Mean of ``|y_true - y_pred|`` over the last axis."""
    return tf.mean(tf.abs(tf.sub(_f32(y_true), _f32(y_pred))), -1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """``100 * mean(|y_true - y_pred| / max(|y_true|, eps))`` over the last axis."""
    y_true = _f32(y_true)
    diff = tf.sub(y_true, _f32(y_pred))
    denom = tf.clip_by_value(tf.abs(y_true), EPSILON, 3.4e38)
    return tf.mul(tf.mean(tf.abs(tf.div(diff, denom)), -1), 100.0)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """Mean of ``(log(1 + y_pred) - log(1 + y_true))^2`` (values clipped at eps)."""
    first = tf.log1p(tf.clip_by_value(_f32(y_pred), EPSILON, 3.4e38))
    second = tf.log1p(tf.clip_by_value(_f32(y_true), EPSILON, 3.4e38))
    return tf.mean(tf.square(tf.sub(first, second)), -1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Mean of ``max(0, 1 - y_true * y_pred)^2`` (labels in {-1, 1})."""
    margin = tf.maximum(tf.sub(1.0, tf.mul(_f32(y_true), _f32(y_pred))), 0.0)
    return tf.mean(tf.square(margin), -1)


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Mean of ``max(0, 1 - y_true * y_pred)`` (labels in {-1, 1})."""
    return tf.mean(tf.maximum(tf.sub(1.0, tf.mul(_f32(y_true), _f32(y_pred))), 0.0), -1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """``max(0, 1 + max((1 - y_true) * y_pred) - sum(y_true * y_pred))``."""
    y_true, y_pred = _f32(y_true), _f32(y_pred)
    pos = tf.sum(tf.mul(y_true, y_pred), -1)
    neg = tf.max(tf.mul(tf.sub(1.0, y_true), y_pred), -1)
    return tf.maximum(tf.add(tf.sub(neg, pos), 1.0), 0.0)


def logcosh(y_true: Any, y_pred: Any) -> Tensor:
    """Mean of ``log(cosh(y_pred - y_true))`` computed stably."""
    d = tf.sub(_f32(y_pred), _f32(y_true))
    return tf.mean(tf.sub(tf.add(d, tf.softplus(tf.mul(d, -2.0))), math.log(2.0)), -1)


def categorical_crossentropy(y_true: Any, y_pred: Any) -> Tensor:
    """``-sum(y_true * log(p))`` with ``p`` rescaled to sum to 1 per row and clipped.

    Example:
        >>> tf.metrics.categorical_crossentropy(tf.tensor([[0, 1.0]]), tf.tensor([[0.2, 0.8]]))
    """
    y_pred = _f32(y_pred)
    p = _clip(tf.div(y_pred, tf.sum(y_pred, -1, True)))
    return tf.neg(tf.sum(tf.mul(_f32(y_true), tf.log(p)), -1))


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any) -> Tensor:
    """Categorical cross-entropy against integer class labels (shape ``[n]`` or ``[n, 1]``)."""
    y_pred = _clip(_f32(y_pred))
    labels = tf.cast(tf.floor(tf.reshape(_f32(y_true), [-1])), "int32")
    one_hot = tf.reshape(tf.one_hot(labels, y_pred.shape[-1], dtype="float32"), y_pred.shape)
    return categorical_crossentropy(one_hot, y_pred)


def binary_crossentropy(y_true: Any, y_pred: Any) -> Tensor:
    """Mean over the last axis of the sigmoid cross-entropy of ``logit(clip(y_pred))``."""
    p = _clip(_f32(y_pred))
    logits = tf.log(tf.div(p, tf.sub(1.0, p)))
    labels = _f32(y_true)
    per = tf.add(
        tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))
    )
    return tf.mean(per, -1)


def kullback_leibler_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """``sum(y_true * log(y_true / y_pred))`` with both clipped to ``[eps, 1]``."""
    t, p = _clip(_f32(y_true), 1.0), _clip(_f32(y_pred), 1.0)
    return tf.sum(tf.mul(_f32(y_true), tf.log(tf.div(t, p))), -1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """Mean of ``y_pred - y_true * log(y_pred + eps)``."""
    y_pred = _f32(y_pred)
    return tf.mean(tf.sub(y_pred, tf.mul(_f32(y_true), tf.log(tf.add(y_pred, EPSILON)))), -1)


def cosine_proximity(y_true: Any, y_pred: Any) -> Tensor:
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred))`` over the last axis."""
    return tf.neg(tf.sum(tf.mul(_l2_normalize(_f32(y_true)), _l2_normalize(_f32(y_pred))), -1))


# -- metrics (tfjs-layers metrics.ts) ----------------------------------------------------------


def binary_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """Fraction of entries where ``y_pred > 0.5`` equals ``y_true``, per sample."""
    hit = tf.equal(_f32(y_true), tf.cast(tf.greater(_f32(y_pred), 0.5), "float32"))
    return tf.mean(tf.cast(hit, "float32"), -1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1 where ``argmax(y_true) == argmax(y_pred)`` (first index on ties), else 0.

    Example:
        >>> tf.metrics.categorical_accuracy(tf.tensor([[0, 1.0]]), tf.tensor([[0.3, 0.7]]))
    """
    hit = tf.equal(tf.arg_max(_f32(y_true), -1), tf.arg_max(_f32(y_pred), -1))
    return tf.cast(hit, "float32")


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """1 where the integer label equals ``argmax(y_pred)``, else 0."""
    y_true, y_pred = _f32(y_true), _f32(y_pred)
    if y_true.rank == y_pred.rank:
        y_true = tf.squeeze(y_true, [y_true.rank - 1])
    pred = tf.cast(tf.arg_max(y_pred, -1), "float32")
    return tf.cast(tf.equal(y_true, pred), "float32")


def _true_positives(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return tf.sum(tf.mul(tf.cast(tf.equal(y_true, 1.0), "float32"),
                         tf.cast(tf.equal(y_pred, 1.0), "float32")))  # fmt: skip


def precision(y_true: Any, y_pred: Any) -> Tensor:
    """Batch precision of 0/1 predictions: ``tp / (tp + fp)`` (0 when nothing is predicted)."""
    y_true, y_pred = _f32(y_true), _f32(y_pred)
    tp = _true_positives(y_true, y_pred)
    predicted = tf.sum(tf.cast(tf.equal(y_pred, 1.0), "float32"))
    return tf.where(tf.greater(predicted, 0.0), tf.div(tp, tf.maximum(predicted, 1e-30)), 0.0)


def recall(y_true: Any, y_pred: Any) -> Tensor:
    """Batch recall of 0/1 predictions: ``tp / (tp + fn)`` (0 when there is no positive)."""
    y_true, y_pred = _f32(y_true), _f32(y_pred)
    tp = _true_positives(y_true, y_pred)
    actual = tf.sum(tf.cast(tf.equal(y_true, 1.0), "float32"))
    return tf.where(tf.greater(actual, 0.0), tf.div(tp, tf.maximum(actual, 1e-30)), 0.0)


# Batch-level metrics: one number per batch, so the loop cannot mask padded samples out.
precision.per_sample = False  # type: ignore[attr-defined]
recall.per_sample = False  # type: ignore[attr-defined]

# -- name resolution ---------------------------------------------------------------------------

LOSSES: dict[str, LossOrMetric] = {
    "meanSquaredError": mean_squared_error,
    "meanAbsoluteError": mean_absolute_error,
    "meanAbsolutePercentageError": mean_absolute_percentage_error,
    "meanSquaredLogarithmicError": mean_squared_logarithmic_error,
    "squaredHinge": squared_hinge,
    "hinge": hinge,
    "categoricalHinge": categorical_hinge,
    "logcosh": logcosh,
    "categoricalCrossentropy": categorical_crossentropy,
    "sparseCategoricalCrossentropy": sparse_categorical_crossentropy,
    "binaryCrossentropy": binary_crossentropy,
    "kullbackLeiblerDivergence": kullback_leibler_divergence,
    "poisson": poisson,
    "cosineProximity": cosine_proximity,
}
# Keras short names (TF.js rejects them for losses; Keras users expect them).
_LOSS_ALIASES = {
    "mse": mean_squared_error,
    "mae": mean_absolute_error,
    "mape": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "kld": kullback_leibler_divergence,
    "log_cosh": logcosh,
    "cosine": cosine_proximity,
}
METRICS: dict[str, LossOrMetric] = {
    "binaryAccuracy": binary_accuracy,
    "categoricalAccuracy": categorical_accuracy,
    "sparseCategoricalAccuracy": sparse_categorical_accuracy,
    "precision": precision,
    "recall": recall,
    "binaryCrossentropy": binary_crossentropy,
    "categoricalCrossentropy": categorical_crossentropy,
    "sparseCategoricalCrossentropy": sparse_categorical_crossentropy,
    "meanSquaredError": mean_squared_error,
    "meanAbsoluteError": mean_absolute_error,
    "meanAbsolutePercentageError": mean_absolute_percentage_error,
    "cosineProximity": cosine_proximity,
    "mse": mean_squared_error,
    "mae": mean_absolute_error,
    "mape": mean_absolute_percentage_error,
    "cosine": cosine_proximity,
}
# 'accuracy' and 'crossentropy' depend on the loss and the output width (see resolve_metric).
_ADAPTIVE = {"accuracy": "acc", "acc": "acc", "crossentropy": "ce", "ce": "ce"}


def _lookup(
    kind: str, name: str, table: dict[str, LossOrMetric], extra: dict, shown_too: tuple = ()
) -> LossOrMetric:
    folded = {_fold(k): v for k, v in {**table, **extra}.items()}
    if isinstance(name, str) and _fold(name) in folded:
        return folded[_fold(name)]
    shown = list(shown_too) + list(table) + [k for k in extra if k not in table]
    hint = _did_you_mean(str(name), shown).replace("; did", " Did")
    extra_hint = ""
    if kind == "loss" and "softmaxcrossentropy" in str(name).lower():
        extra_hint = ' Use "categoricalCrossentropy" for tf.losses.softmaxCrossEntropy.'
    raise ValueError(
        f"Unknown {kind} {name}.{hint}{extra_hint} Valid {kind} names: {', '.join(shown)}."
    )


def get_loss(identifier: str | LossOrMetric) -> LossOrMetric:
    """A loss function by name (TF.js or Keras spelling) or a callable passed through.

    Example:
        >>> tf.metrics.get_loss('categorical_crossentropy') is tf.metrics.categorical_crossentropy
        True
    """
    if callable(identifier):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(
            f"loss must be a name such as 'categoricalCrossentropy' or a function "
            f"(y_true, y_pred) -> loss, got {type(identifier).__name__}: {identifier!r}"
        )
    return _lookup("loss", identifier, LOSSES, _LOSS_ALIASES)


def get_metric(identifier: str | LossOrMetric) -> LossOrMetric:
    """A metric function by name or a callable passed through (no 'accuracy' resolution)."""
    if callable(identifier):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(
            f"metrics must be names such as 'accuracy' or functions (y_true, y_pred) -> score, "
            f"got {type(identifier).__name__}: {identifier!r}"
        )
    return _lookup("metric", identifier, METRICS, {**_LOSS_ALIASES, **LOSSES}, tuple(_ADAPTIVE))


def resolve_metric(
    identifier: str | LossOrMetric, loss_fn: LossOrMetric, output_shape: list
) -> tuple[str, LossOrMetric]:
    """``(log key, function)`` for one compile metric, as TF.js's compile resolves them.

    'accuracy'/'acc' become binary accuracy when the output is 1 wide or the loss is binary
    cross-entropy, sparse categorical accuracy with sparse categorical cross-entropy, and
    categorical accuracy otherwise; their key is 'acc' ('ce' for 'crossentropy'/'ce').
    """
    if isinstance(identifier, str) and identifier in _ADAPTIVE:
        suffix = _ADAPTIVE[identifier]
        if output_shape[-1] == 1 or loss_fn is binary_crossentropy:
            fn = binary_accuracy if suffix == "acc" else binary_crossentropy
        elif loss_fn is sparse_categorical_crossentropy:
            fn = sparse_categorical_accuracy if suffix == "acc" else sparse_categorical_crossentropy
        else:
            fn = categorical_accuracy if suffix == "acc" else categorical_crossentropy
        return suffix, fn
    fn = get_metric(identifier)
    if isinstance(identifier, str):
        return identifier, fn
    return getattr(identifier, "__name__", type(identifier).__name__), fn


def loss_name(fn: Any) -> str:
    """Keras snake_case name of a built-in loss (what model.json stores), else its __name__."""
    for table in (LOSSES, _LOSS_ALIASES):
        for value in table.values():
            if value is fn:
                return fn.__name__
    return getattr(fn, "__name__", str(fn))


# TF.js spellings as attributes too: tf.metrics.categoricalAccuracy, ...
MSE = mse = mean_squared_error
MAE = mae = mean_absolute_error
MAPE = mape = mean_absolute_percentage_error
cosine = cosine_proximity
install_aliases(
    sys.modules[__name__],
    [fn.__name__ for fn in {**LOSSES, **METRICS}.values()] + ["get_loss", "get_metric"],
)
