"""What fit, evaluate and predict share (training.py holds the loops): input checks, the
batch step, index/mask batching and the epoch means."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import clflow as tf
import numpy as np

from . import engine
from . import metrics as metrics_mod
from .optimizer import ReplayStep
from .tensor import Tensor, buffer_tensor, wrap

if TYPE_CHECKING:
    from .training import _Setup

# Layers that treat each sample on its own: padding a batch with dummy rows is invisible.
PER_SAMPLE_LAYERS = {"Dense", "Dropout", "Flatten", "Reshape", "Activation"}


# -- data checks -------------------------------------------------------------------------------


def _to_tensor(x: Any, what: str) -> Tensor:
    if isinstance(x, list | tuple) and len(x) == 1 and isinstance(x[0], Tensor | np.ndarray):
        x = x[0]  # TF.js accepts [tensor] for a one-input model
    if isinstance(x, Tensor):
        t = x
    elif isinstance(x, np.ndarray | list | tuple):
        arr = np.asarray(x)
        t = tf.tensor(arr if arr.dtype.kind in "iub" else np.asarray(arr, np.float32))
    else:
        raise TypeError(f"{what} must be a Tensor, a numpy array or nested lists, got "
                        f"{type(x).__name__}")  # fmt: skip
    if t.rank == 0:
        raise ValueError(f"{what} must have a batch dimension, got a scalar")
    if t.rank == 1:  # TF.js: a 1-D array is a batch of 1-wide samples
        t = tf.reshape(t, [t.shape[0], 1])
    return t


def _dims(shape: Sequence) -> str:
    return "[" + ",".join("null" if d is None else str(d) for d in shape) + "]"


def _check_shape(t: Tensor, expected: Sequence, what: str) -> None:
    got = t.shape[1:]
    if len(got) != len(expected) or any(
        e is not None and e != g for e, g in zip(expected, got, strict=False)
    ):
        raise ValueError(
            f"{what} expected a batch of elements where each example has shape "
            f"{_dims(expected)} (i.e.,tensor shape [*,{_dims(expected)[1:-1]}]) but the {what} "
            f"received an input with {t.shape[0]} examples, each with shape {_dims(got)} "
            f"(tensor shape {_dims(t.shape)})"
        )


def _prepare(model: Any, setup: _Setup, x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """x and y as device tensors, checked against the model as TF.js's standardizeUserData."""
    xt, yt = _to_tensor(x, "input"), _to_tensor(y, "target")
    _check_shape(xt, model.input_shape[1:], "input")
    out = list(model.output_shape[1:])
    if setup.loss_fn is metrics_mod.sparse_categorical_crossentropy:
        out = out[:-1] + [1]
    _check_shape(yt, out, "target")
    if xt.shape[0] != yt.shape[0]:
        raise ValueError(
            "Input Tensors should have the same number of samples as target Tensors. Found "
            f"{xt.shape[0]} input sample(s) and {yt.shape[0]} target sample(s)."
        )
    if setup.loss_fn is metrics_mod.categorical_crossentropy and yt.shape[-1] == 1:
        raise ValueError(
            f"You are passing a target array of shape {','.join(map(str, yt.shape))} while "
            "using a loss 'categorical_crossentropy'. 'categorical_crossentropy' expects "
            "targets to be binary matrices (1s and 0s) of shape [samples, classes]."
        )
    return xt, yt


def _check_batch_size(batch_size: Any) -> int:
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int | np.integer)
        or (batch_size <= 0)
    ):
        raise ValueError(f"batchSize is required to be a positive integer, but got {batch_size}")
    return int(batch_size)


def _sample_weights(y: Tensor, n: int, sample_weight: Any, class_weight: Any) -> Tensor | None:
    """Per-sample loss weights on the device (class weights looked up by label), or None."""
    if sample_weight is None and not class_weight:
        return None
    w = np.ones(n, np.float32)
    if sample_weight is not None:
        sw = np.asarray(sample_weight.numpy() if isinstance(sample_weight, Tensor)
                        else sample_weight, np.float32).reshape(-1)  # fmt: skip
        if sw.shape[0] != n:
            raise ValueError(f"sample_weight has {sw.shape[0]} entries for {n} samples")
        w *= sw
    if class_weight:
        labels = y.numpy()
        cls = labels.argmax(-1) if labels.shape[-1] > 1 else labels.reshape(-1).astype(np.int64)
        table = {int(k): float(v) for k, v in dict(class_weight).items()}
        w *= np.array([table.get(int(c), 1.0) for c in cls], np.float32)
    return tf.tensor(w)


# -- the step ----------------------------------------------------------------------------------


def _reduce(per: Tensor, mask: Tensor | None, weights: Tensor | None = None) -> Tensor:
    """Batch mean of per-sample values; ``mask`` holds 1/n for real rows and 0 for padding."""
    if per.rank == 0:
        return per  # a user function that already reduced the batch
    if per.rank > 1:
        per = tf.mean(per, list(range(1, per.rank)))
    if weights is not None:
        per = tf.mul(per, weights)
    return tf.mean(per) if mask is None else tf.sum(tf.mul(per, mask))


def _outputs(model, setup, xb, yb, wb, mask, training: bool):
    """(total loss, [metric values]) for one batch, recorded lazily."""
    pred = model.call(xb, training=training)
    loss = _reduce(setup.loss_fn(yb, pred), mask, wb)
    reg = model.regularization_loss()
    if reg is not None:
        loss = tf.add(loss, reg)
    return loss, [_reduce(fn(yb, pred), mask) for fn in setup.metric_fns]


def _can_pad(model: Any, setup: _Setup) -> bool:
    fns = [setup.loss_fn, *setup.metric_fns]
    builtin = set(metrics_mod.LOSSES.values()) | set(metrics_mod.METRICS.values())
    return all(type(layer).__name__ in PER_SAMPLE_LAYERS for layer in model.layers) and all(
        fn in builtin and getattr(fn, "per_sample", True) for fn in fns
    )


class _Batcher:
    """Index and mask tensors for batches of one size, padded when allowed."""

    def __init__(self, batch_size: int, pad: bool) -> None:
        self.batch_size, self.pad = batch_size, pad
        self.full_mask = tf.tensor(np.full(batch_size, 1.0 / batch_size, np.float32))

    def _mask(self, k: int) -> Tensor:
        """1/k for the k real rows, 0 for the padding rows."""
        if k == self.batch_size:
            return self.full_mask
        mask = np.zeros(self.batch_size if self.pad else k, np.float32)
        mask[:k] = 1.0 / k
        return tf.tensor(mask)

    def batches(self, order: np.ndarray):
        """``(ids, idx, mask)`` for each batch of ``order``.

        The whole order is uploaded once; each batch's index is a device-side copy of its
        slice (an upload costs about 45 us on pocl, a device copy about 7 us).
        """
        b, n = self.batch_size, len(order)
        steps = -(-n // b)
        flat = np.empty(steps * b, np.int32)
        flat[:n] = order
        flat[n:] = order[(steps - 1) * b] if n else 0  # padding rows repeat a real one
        whole = tf.tensor(flat)
        device = engine.device()
        for s in range(steps):
            ids = order[s * b : (s + 1) * b]
            rows = b if self.pad else len(ids)
            buf = device.copy(whole.node.data, rows * 4, s * b * 4)
            yield ids, buffer_tensor(buf, (rows,), "int32"), self._mask(len(ids))


def _gathered(x: Tensor, y: Tensor, w: Tensor | None, idx: Tensor | None):
    if idx is None:  # already one batch
        return x, y, w
    wb = None if w is None else tf.gather(w, idx)
    return tf.gather(x, idx), tf.gather(y, idx), wb


def _pad_rows(t: Tensor, b: int) -> Tensor:
    """``t`` with its first row repeated up to ``b`` rows (host side: the batch came from it)."""
    arr = t.numpy()
    return tf.tensor(np.concatenate([arr, np.repeat(arr[:1], b - arr.shape[0], 0)]))


_FULL_MASKS: dict[int, Tensor] = {}


def _pad_batch(xb, yb, wb, full: int, pad: bool):
    """A dataset batch padded to the epoch's first batch size, with its mask."""
    k = xb.shape[0]
    if not pad or k > full:
        return xb, yb, wb, None
    if k == full:
        if full not in _FULL_MASKS:
            _FULL_MASKS[full] = tf.tensor(np.full(full, 1.0 / full, np.float32))
        return xb, yb, wb, _FULL_MASKS[full]
    mask = np.zeros(full, np.float32)
    mask[:k] = 1.0 / k
    wb = None if wb is None else _pad_rows(wb, full)
    return _pad_rows(xb, full), _pad_rows(yb, full), wb, tf.tensor(mask)


def _train_batch(model, setup, x, y, w, idx, mask) -> list[Tensor]:
    """One step on ``x`` (rows ``idx`` of it, when given), traced afresh."""
    return _train_step(model, setup, x, y, w)(idx, mask)


def _train_step(model, setup, x, y, w) -> ReplayStep:
    """fit's step as a function of the batch's ``(idx, mask)``, replayed once stable."""

    def f(idx, mask):
        xb, yb, wb = _gathered(x, y, w, idx)
        return _outputs(model, setup, xb, yb, wb, mask, True)

    return ReplayStep(model.optimizer, f, lambda: [v.val for v in model.trainable_weights])


def _eval_indices(model, setup, x, y, w, ids: np.ndarray, batcher: _Batcher) -> list:
    """Queue the evaluation of rows ``ids`` batch by batch; values are read later."""
    results = []
    for part, idx, mask in batcher.batches(ids):
        xb, yb, wb = _gathered(x, y, w, idx)
        loss, mets = _outputs(model, setup, xb, yb, wb, mask, False)
        engine.realize([loss.node] + [m.node for m in mets])
        results.append((len(part), [loss, *mets]))
    return results


def _means(results: list[tuple[int, list[Tensor]]]) -> list[float]:
    """Sample-weighted means of per-batch values (read back together: one sync)."""
    if not results:
        return []
    counts = np.array([n for n, _ in results], np.float64)
    nodes = [v.node for _, values in results for v in values]
    engine.realize(nodes)
    on_device = [n.data for n in nodes if n.data is not None and n.dtype == "float32"]
    if len(on_device) == len(nodes):
        values = engine.device().read_scalars(on_device, np.float32)
    else:  # constants or other dtypes (user metrics): read one by one
        values = np.array([float(wrap(n).numpy()) for n in nodes])
    values = values.reshape(len(results), -1).astype(np.float64)
    return [float(s) for s in counts @ values / counts.sum()]


def _val_logs(names: list[str], values: list[float]) -> dict[str, float]:
    return {f"val_{k}": v for k, v in zip(names, values, strict=True)}
