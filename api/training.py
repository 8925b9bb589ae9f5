"""The Layers training loop: compile, fit, fit_dataset, evaluate, predict (TF.js semantics).

fit keeps x and y on the device for the whole run and selects each batch inside the compiled
train step with ``gather(x, idx)``: the epoch's shuffled order is uploaded once, each batch's
index is a device-side copy of its slice, and the step (forward, loss, metrics, backward and
update in one executable) is traced twice, then replayed without re-tracing (ReplayStep). Loss
and metric values are read back at the end of the epoch, or per batch only when a callback
implements ``on_batch_end``. The last, smaller batch is padded to the full batch size with a
zero weight, so one executable serves every batch of the epoch (skipped for layers that mix
samples and for user-defined losses or metrics, which then see the exact smaller batch).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import clflow as tf
import numpy as np

from . import callbacks as cbs
from . import engine
from . import metrics as metrics_mod
from ._options import _did_you_mean, tfjs_options
from .batching import (
    PER_SAMPLE_LAYERS,
    _Batcher,
    _can_pad,
    _check_batch_size,
    _dims,
    _eval_indices,
    _means,
    _outputs,
    _pad_batch,
    _prepare,
    _sample_weights,
    _to_tensor,
    _train_batch,
    _train_step,
    _val_logs,
)
from .optimizer import Optimizer, ReplayStep
from .tensor import Tensor

# compile()'s string optimizers and their TF.js default learning rates.
OPTIMIZERS = {
    "sgd": ("sgd", 0.01),
    "adagrad": ("adagrad", 0.01),
    "adadelta": ("adadelta", 1.0),
    "adam": ("adam", 0.001),
    "adamax": ("adamax", 0.002),
    "rmsprop": ("rmsprop", 0.001),
}
NOT_COMPILED = "The model needs to be compiled before being used."


class _Setup:
    """What compile decided: the loss, the metrics and their log keys."""

    def __init__(self, loss_fn, metric_fns, names):
        self.loss_fn = loss_fn
        self.metric_fns = metric_fns
        self.names = names  # ['loss', 'acc', ...]


def _make_optimizer(name: str) -> Optimizer:
    key = name.lower().replace("_", "")
    if key not in OPTIMIZERS:
        hint = _did_you_mean(name, list(OPTIMIZERS)).replace("; did", " Did")
        raise ValueError(
            f"Unknown Optimizer {name}.{hint} Valid optimizer names: {', '.join(OPTIMIZERS)}."
        )
    factory, lr = OPTIMIZERS[key]
    if not hasattr(tf.train, factory):
        raise ValueError(f"Optimizer '{name}' is not available: tf.train has no {factory}()")
    return getattr(tf.train, factory)(lr)


@tfjs_options(positional=1)
def compile_model(model: Any, optimizer: Any = None, loss: Any = None, metrics: Any = None) -> None:
    """Configure training: optimizer, loss and metrics (TF.js's ``model.compile``).

    Args:
        model: the model (``model.compile(...)`` passes itself).
        optimizer: a name ('sgd', 'adam', 'rmsprop', 'adagrad', 'adadelta', 'adamax') or a
            ``tf.train`` optimizer.
        loss: a loss name (``'categoricalCrossentropy'`` or ``'categorical_crossentropy'``,
            'mse', ...) or a function ``(y_true, y_pred) -> loss``.
        metrics: names (``'accuracy'``, ``'mae'``, ...) or functions ``(y_true, y_pred)``.

    Example:
        >>> model.compile({'optimizer': 'sgd', 'loss': 'categoricalCrossentropy',
        ...                'metrics': ['accuracy']})
    """
    if loss is None:
        raise ValueError("compile() needs a loss, e.g. loss='categoricalCrossentropy'")
    if optimizer is None:
        raise ValueError("compile() needs an optimizer, e.g. optimizer='sgd'")
    if isinstance(loss, list | tuple) and len(loss) == 1:
        loss = loss[0]
    loss_fn = metrics_mod.get_loss(loss)
    if metrics is None:
        metrics = []
    elif isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    if isinstance(metrics, Mapping) or not isinstance(metrics, Sequence):
        raise TypeError(f"metrics must be a list of names or functions, got {metrics!r}")
    output_shape = list(model.output_shape)
    resolved = [metrics_mod.resolve_metric(m, loss_fn, output_shape) for m in metrics]
    if isinstance(optimizer, str):
        optimizer = _make_optimizer(optimizer)
    elif not isinstance(optimizer, Optimizer):
        raise TypeError(
            "optimizer must be a name such as 'sgd' or a tf.train optimizer, got "
            f"{type(optimizer).__name__}: {optimizer!r}"
        )
    model.optimizer = optimizer
    model.loss = loss
    model.metrics = list(metrics)
    model._setup = _Setup(loss_fn, [fn for _, fn in resolved], ["loss"] + [n for n, _ in resolved])
    model.metrics_names = list(model._setup.names)
    model.is_compiled = True
    model.stop_training = False


def _setup_of(model: Any) -> _Setup:
    setup = getattr(model, "_setup", None)
    if not getattr(model, "is_compiled", False) or setup is None:
        raise RuntimeError(NOT_COMPILED)
    return setup


# -- fit ---------------------------------------------------------------------------------------


def _split_validation(n: int, validation_split: float) -> tuple[np.ndarray, np.ndarray | None]:
    """TF.js: the LAST fraction of the rows (before any shuffling) is the validation set."""
    if isinstance(validation_split, bool) or not 0.0 <= float(validation_split) < 1.0:
        raise ValueError(
            f"validation_split must be in [0, 1), got {validation_split} (TF.js ignores values "
            ">= 1 and trains without validation; clflow refuses them)"
        )
    if validation_split == 0:
        return np.arange(n), None
    split_at = math.floor(n * (1 - float(validation_split)))
    if split_at <= 0:
        raise ValueError(
            f"validation_split={validation_split} of {n} sample(s) leaves no training sample"
        )
    if split_at >= n:
        raise ValueError(
            f"validation_split={validation_split} of {n} sample(s) leaves no validation sample"
        )
    return np.arange(split_at), np.arange(split_at, n)


def _validation_tensors(model, setup, validation_data) -> tuple[Tensor, Tensor]:
    if not isinstance(validation_data, list | tuple) or len(validation_data) not in (2, 3):
        raise TypeError(
            "validation_data must be [x_val, y_val] (tensors or arrays), got "
            f"{type(validation_data).__name__}"
        )
    return _prepare(model, setup, validation_data[0], validation_data[1])


def _batch_logs(names, batch, size, outs) -> dict[str, Any]:
    logs: dict[str, Any] = {"batch": batch, "size": size}
    logs.update({k: float(v.numpy()) for k, v in zip(names, outs, strict=True)})
    return logs


def _end_batch(cb_list, progress, names, batch: int, size: int, outs) -> None:
    """Batch-end callbacks (their logs read the values: a sync) and the progress bar."""
    if cb_list.needs_batch_logs:
        cb_list.call("on_batch_end", batch, _batch_logs(names, batch, size, outs))
    progress.batch_end(lambda: {k: float(v.numpy()) for k, v in zip(names, outs, strict=False)})


def _end_epoch(model, cb_list, progress, epoch: int, names, results, val) -> bool:
    """Epoch logs (validation first, as TF.js orders them), callbacks; True to stop."""
    logs: dict[str, float] = {}
    if val is not None:
        logs.update(_val_logs(names, _means(val)))
    logs.update(dict(zip(names, _means(results), strict=True)))
    cb_list.call("on_epoch_end", epoch, logs)
    progress.epoch_end(epoch, logs)
    return model.stop_training


@tfjs_options(positional=3)
def fit(
    model: Any,
    x: Any,
    y: Any,
    batch_size: int | None = 32,
    epochs: int = 1,
    verbose: int = 1,
    callbacks: Any = None,
    validation_split: float = 0.0,
    validation_data: Any = None,
    shuffle: bool | str = True,
    class_weight: Mapping[int, float] | None = None,
    sample_weight: Any = None,
    initial_epoch: int = 0,
) -> cbs.History:
    """Train on tensors for a number of epochs (TF.js's ``model.fit``).

    Args:
        model: the compiled model.
        x, y: inputs and targets (tensors, numpy arrays or nested lists), same sample count.
        batch_size: samples per gradient step; the last batch of an epoch may be smaller.
        epochs: index of the epoch to stop before (training runs ``initial_epoch..epochs-1``).
        verbose: 0 silent, 1 a live progress bar per epoch, 2 one line per epoch.
        callbacks: a hooks dict (``{'on_batch_end': f}`` or ``{'onBatchEnd': f}``), a
            ``tf.callbacks.Callback``, or a list of them.
        validation_split: fraction in [0, 1) of the LAST samples held out for validation
            (taken before shuffling, as TF.js; values outside raise, unlike TF.js).
        validation_data: ``[x_val, y_val]`` evaluated at each epoch end (wins over the split).
        shuffle: shuffle the training samples each epoch.
        class_weight: ``{class_index: weight}`` scaling each sample's loss by its label.
        sample_weight: one loss weight per sample (TF.js lacks it; Keras has it).
        initial_epoch: epoch to start from (to resume a run).

    Returns:
        a History: ``history`` (``{'loss': [...], 'acc': [...], 'val_loss': ...}``),
        ``epoch`` and ``params``.

    Example:
        >>> info = model.fit(data, labels, {'epochs': 5, 'batchSize': 32})
        >>> print('Final accuracy', info.history['acc'])
    """
    setup = _setup_of(model)
    batch_size = _check_batch_size(32 if batch_size is None else batch_size)
    xt, yt = _prepare(model, setup, x, y)
    n = xt.shape[0]
    if validation_data is not None:
        _split_validation(n, validation_split)  # still reject a bad value
        xv, yv = _validation_tensors(model, setup, validation_data)
        train_ids, val_ids = np.arange(n), np.arange(xv.shape[0])
    else:
        train_ids, val_ids = _split_validation(n, validation_split)
        xv, yv = xt, yt
    weights = _sample_weights(yt, n, sample_weight, class_weight)
    do_val = val_ids is not None
    names = setup.names
    params = {
        "epochs": epochs,
        "initialEpoch": initial_epoch,
        "samples": len(train_ids),
        "steps": None,
        "batchSize": batch_size,
        "verbose": verbose,
        "doValidation": do_val,
        "metrics": names + ([f"val_{k}" for k in names] if do_val else []),
    }
    history = cbs.History()
    cb_list = cbs.CallbackList([*cbs.standardize(callbacks), history], model, params)
    steps = math.ceil(len(train_ids) / batch_size)
    progress = cbs.Progress(verbose, epochs, steps)
    batcher = _Batcher(batch_size, _can_pad(model, setup))
    step = _train_step(model, setup, xt, yt, weights)
    from .ops import _generator

    model.stop_training = False
    cb_list.call("on_train_begin", {})
    try:
        for epoch in range(initial_epoch, epochs):
            cb_list.call("on_epoch_begin", epoch, {})
            progress.epoch_begin(epoch)
            order = _generator(None).permutation(train_ids) if shuffle else train_ids
            results: list[tuple[int, list[Tensor]]] = []
            for b, (ids, idx, mask) in enumerate(batcher.batches(order)):
                cb_list.call("on_batch_begin", b, {})
                outs = step(idx, mask)
                results.append((len(ids), outs))
                _end_batch(cb_list, progress, names, b, len(ids), outs)
                if model.stop_training:
                    break
            val = None
            if do_val and len(results) == steps:
                val = _eval_indices(model, setup, xv, yv, None, val_ids, batcher)
            if _end_epoch(model, cb_list, progress, epoch, names, results, val):
                break
        cb_list.call("on_train_end", {})
    finally:
        progress.close()
    return history


def _unpack_element(element: Any) -> tuple[Any, Any]:
    """``{'xs', 'ys'}`` or ``[xs, ys]`` dataset elements to (xs, ys)."""
    if isinstance(element, Mapping) and "xs" in element and "ys" in element:
        return element["xs"], element["ys"]
    if isinstance(element, list | tuple) and len(element) == 2:
        return element[0], element[1]
    got = (f"a dict with keys {sorted(map(str, element))}" if isinstance(element, Mapping)
           else f"a {type(element).__name__}")  # fmt: skip
    raise TypeError(
        "fit_dataset expects dataset elements {'xs': x_batch, 'ys': y_batch} (e.g. "
        f"tf.data.zip({{'xs': xs, 'ys': ys}}).batch(32)) or [xs, ys]; got {got}"
    )


def _dataset_batches(model, setup, dataset, limit: int | None, iterator=None):
    """(iterator, [(xb, yb)]) pulling at most ``limit`` batches (all when None)."""
    it = iter(dataset) if iterator is None else iterator
    count = 0
    while limit is None or count < limit:
        try:
            element = next(it)
        except StopIteration:
            return
        xs, ys = _unpack_element(element)
        yield _prepare(model, setup, xs, ys)
        count += 1


@tfjs_options(positional=2)
def fit_dataset(
    model: Any,
    dataset: Any,
    epochs: int = 1,
    batches_per_epoch: int | None = None,
    validation_data: Any = None,
    validation_batches: int | None = None,
    validation_batch_size: int = 32,
    callbacks: Any = None,
    verbose: int = 1,
    initial_epoch: int = 0,
    class_weight: Mapping[int, float] | None = None,
) -> cbs.History:
    """Train on a ``tf.data`` dataset of batches (TF.js's ``model.fitDataset``).

    Args:
        model: the compiled model.
        dataset: yields ``{'xs': x_batch, 'ys': y_batch}`` (or ``[xs, ys]``) elements.
        epochs: number of passes; each starts the dataset again unless ``batches_per_epoch``.
        batches_per_epoch: batches per epoch, continuing one iterator across epochs.
        validation_data: a dataset of batches, or ``[x_val, y_val]`` tensors.
        validation_batches: batches of a validation dataset to use (default all).
        validation_batch_size: batch size for ``[x_val, y_val]`` validation.
        callbacks, verbose, initial_epoch, class_weight: as in ``fit``.

    Example:
        >>> ds = tf.data.zip({'xs': xs, 'ys': ys}).shuffle(100).batch(32)
        >>> info = model.fit_dataset(ds, {'epochs': 5})
    """
    setup = _setup_of(model)
    names = setup.names
    do_val = validation_data is not None
    if do_val and not isinstance(validation_data, list | tuple):
        if not hasattr(validation_data, "iterator"):
            raise TypeError("validation_data must be a dataset or [x_val, y_val]")
    elif do_val:
        xv, yv = _validation_tensors(model, setup, validation_data)
        val_batcher = _Batcher(_check_batch_size(validation_batch_size), _can_pad(model, setup))
    size = getattr(dataset, "size", None)
    steps = batches_per_epoch or (size if isinstance(size, int) else None)
    params = {
        "epochs": epochs,
        "initialEpoch": initial_epoch,
        "samples": None,
        "steps": steps,
        "batchSize": None,
        "verbose": verbose,
        "doValidation": do_val,
        "metrics": names + ([f"val_{k}" for k in names] if do_val else []),
    }
    history = cbs.History()
    cb_list = cbs.CallbackList([*cbs.standardize(callbacks), history], model, params)
    progress = cbs.Progress(verbose, epochs, steps)
    shared_it = iter(dataset) if batches_per_epoch else None
    pad, full = _can_pad(model, setup), 0
    step = ReplayStep(
        model.optimizer,
        lambda xb, yb, wb, mask: _outputs(model, setup, xb, yb, wb, mask, True),
        lambda: [v.val for v in model.trainable_weights],
    )
    model.stop_training = False
    cb_list.call("on_train_begin", {})
    try:
        for epoch in range(initial_epoch, epochs):
            cb_list.call("on_epoch_begin", epoch, {})
            progress.epoch_begin(epoch)
            results: list[tuple[int, list[Tensor]]] = []
            batches = _dataset_batches(model, setup, dataset, batches_per_epoch, shared_it)
            for b, (xb, yb) in enumerate(batches):
                cb_list.call("on_batch_begin", b, {})
                k = xb.shape[0]
                full = full or k
                wb = _sample_weights(yb, k, None, class_weight)
                xb, yb, wb, mask = _pad_batch(xb, yb, wb, full, pad)
                outs = step(xb, yb, wb, mask)
                results.append((k, outs))
                _end_batch(cb_list, progress, names, b, k, outs)
                if model.stop_training:
                    break
            if not results:
                raise ValueError(
                    f"fit_dataset: the dataset gave no batch in epoch {epoch}; with "
                    "batches_per_epoch the dataset must hold epochs * batches_per_epoch batches"
                )
            val = None
            if do_val and not model.stop_training:
                if isinstance(validation_data, list | tuple):
                    val = _eval_indices(
                        model, setup, xv, yv, None, np.arange(xv.shape[0]), val_batcher
                    )
                else:
                    val = _eval_dataset(model, setup, validation_data, validation_batches)
            if _end_epoch(model, cb_list, progress, epoch, names, results, val):
                break
        cb_list.call("on_train_end", {})
    finally:
        progress.close()
    return history


# -- evaluate / predict ------------------------------------------------------------------------


def _eval_dataset(model, setup, dataset, batches: int | None):
    results = []
    pad, full = _can_pad(model, setup), 0
    for xb, yb in _dataset_batches(model, setup, dataset, batches):
        k = xb.shape[0]
        full = full or k
        xp, yp, _, mask = _pad_batch(xb, yb, None, full, pad)
        loss, mets = _outputs(model, setup, xp, yp, None, mask, False)
        engine.realize([loss.node] + [m.node for m in mets])
        results.append((k, [loss, *mets]))
    if not results:
        raise ValueError("evaluate_dataset: the dataset gave no batch")
    return results


def _as_result(values: list[float]) -> Tensor | list[Tensor]:
    tensors = [tf.scalar(v) for v in values]
    return tensors[0] if len(tensors) == 1 else tensors


@tfjs_options(positional=3)
def evaluate(
    model: Any, x: Any, y: Any, batch_size: int = 32, verbose: int = 0, sample_weight: Any = None
) -> Tensor | list[Tensor]:
    """Loss (and metrics) over a whole data set, in batches (TF.js's ``model.evaluate``).

    Returns:
        the loss as a scalar tensor, or ``[loss, *metrics]`` when metrics were compiled.

    Example:
        >>> loss, acc = model.evaluate(x_test, y_test, {'batchSize': 128})
    """
    setup = _setup_of(model)
    batch_size = _check_batch_size(batch_size)
    xt, yt = _prepare(model, setup, x, y)
    w = _sample_weights(yt, xt.shape[0], sample_weight, None)
    batcher = _Batcher(batch_size, _can_pad(model, setup))
    results = _eval_indices(model, setup, xt, yt, w, np.arange(xt.shape[0]), batcher)
    return _as_result(_means(results))


@tfjs_options(positional=2)
def evaluate_dataset(model: Any, dataset: Any, batches: int | None = None, verbose: int = 0):
    """Loss (and metrics) over a dataset of ``{'xs', 'ys'}`` batches (``evaluateDataset``).

    Example:
        >>> loss = model.evaluate_dataset(ds.batch(32))
    """
    setup = _setup_of(model)
    return _as_result(_means(_eval_dataset(model, setup, dataset, batches)))


def _check_input(model: Any, xt: Tensor) -> None:
    expected = list(model.input_shape)
    got = xt.shape
    if len(got) != len(expected) or any(
        e is not None and e != g for e, g in zip(expected, got, strict=False)
    ):
        first = model.layers[0].name
        raise ValueError(
            f"Error when checking : expected {first}_input to have shape {_dims(expected)} "
            f"but got array with shape {_dims(got)}."
        )


@tfjs_options(positional=2)
def predict(model: Any, x: Any, batch_size: int = 32, verbose: int = 0) -> Tensor:
    """Outputs for every input row, computed in batches (TF.js's ``model.predict``).

    Example:
        >>> model.predict(tf.random_normal([3, 784])).print()
    """
    batch_size = _check_batch_size(batch_size)
    xt = _to_tensor(x, "input")
    _check_input(model, xt)
    n = xt.shape[0]
    if n <= batch_size:
        out = model.call(xt, training=False)
        engine.realize([out.node])
        return out
    pad = all(type(layer).__name__ in PER_SAMPLE_LAYERS for layer in model.layers)
    batcher = _Batcher(batch_size, pad)
    outs = []
    for part, idx, _ in batcher.batches(np.arange(n)):
        out = model.call(tf.gather(xt, idx), training=False)
        engine.realize([out.node])
        outs.append((len(part), out))
    return tf.tensor(np.concatenate([o.numpy()[:k] for k, o in outs]))


def predict_on_batch(model: Any, x: Any) -> Tensor:
    """Outputs for one batch, in one run (TF.js's ``model.predictOnBatch``)."""
    xt = _to_tensor(x, "input")
    _check_input(model, xt)
    out = model.call(xt, training=False)
    engine.realize([out.node])
    return out


@tfjs_options(positional=3)
def train_on_batch(
    model: Any, x: Any, y: Any, sample_weight: Any = None, class_weight: Any = None
) -> float | list[float]:
    """One optimizer step on exactly this batch (TF.js's ``model.trainOnBatch``).

    Returns:
        the loss before the update, or ``[loss, *metrics]`` when metrics were compiled.

    Example:
        >>> loss, acc = model.train_on_batch(x_batch, y_batch)
    """
    setup = _setup_of(model)
    xt, yt = _prepare(model, setup, x, y)
    n = xt.shape[0]
    w = _sample_weights(yt, n, sample_weight, class_weight)
    values = [float(v.numpy()) for v in _train_batch(model, setup, xt, yt, w, None, None)]
    return values[0] if len(values) == 1 else values


# -- save / load support (model_io) ------------------------------------------------------------


def get_training_config(model: Any) -> dict[str, Any]:
    """model.json's ``trainingConfig``: loss, metrics and optimizer config, as TF.js writes."""
    setup = _setup_of(model)
    opt = model.optimizer
    class_name = getattr(opt, "class_name", None) or type(opt).__name__.removesuffix("Optimizer")
    return {
        "loss": metrics_mod.loss_name(setup.loss_fn),
        "metrics": [
            m if isinstance(m, str) else getattr(m, "__name__", str(m)) for m in model.metrics
        ],  # fmt: skip
        "optimizer_config": {"class_name": class_name, "config": opt.get_config()},
    }


def get_optimizer_weights(model: Any) -> list[tuple[str, Tensor]]:
    """Optimizer state as TF.js saves it: 'iter', then each slot for every weight in turn."""
    opt = model.optimizer
    original = {w.val.name: w.original_name for w in model.weights}
    entries = opt.get_weights()
    out = [(e["name"], e["tensor"]) for e in entries if e["name"] == "iter"]
    for slot in getattr(opt, "slot_names", ()):
        for e in entries:
            var, _, s = e["name"].rpartition("/")
            if s == slot and e["name"] != "iter":
                out.append((f"{original.get(var, var)}/{s}", e["tensor"]))
    return out


def load_training_config(model: Any, config: Mapping, optimizer_pairs: Sequence) -> None:
    """Compile a loaded model from its ``trainingConfig`` and restore the optimizer state."""
    opt_cfg = config.get("optimizer_config") or {}
    class_name = str(opt_cfg.get("class_name", "sgd"))
    factory = OPTIMIZERS.get(class_name.lower(), (class_name.lower(), None))[0]
    if not hasattr(tf.train, factory):
        raise ValueError(f"Unknown Optimizer {class_name} in the model's trainingConfig")
    settings = dict(opt_cfg.get("config") or {})
    try:
        optimizer = getattr(tf.train, factory)(settings)
    except TypeError:
        optimizer = getattr(tf.train, factory)(settings.get("learningRate", 0.01))
    compile_model(model, optimizer=optimizer, loss=config["loss"],
                  metrics=config.get("metrics") or None)  # fmt: skip
    if optimizer_pairs:
        var_of = {w.original_name: w.val.name for w in model.weights}
        state = []
        for name, value in optimizer_pairs:
            if name != "iter":
                var, _, slot = name.rpartition("/")
                name = f"{var_of.get(var, var)}/{slot}"
            state.append({"name": name, "tensor": value})
        optimizer.set_weights(state)
