"""Training callbacks (``tf.callbacks``): hooks dicts, ``Callback``, History, early stopping.

``fit`` accepts a dict of hooks (``{'on_batch_end': f}`` or TF.js's ``{'onBatchEnd': f}``), a
``Callback`` instance, or a list mixing both. Hooks get ``(epoch, logs)``, ``(batch, logs)`` or
``(logs)`` as in TF.js. Batch logs cost a device sync, so the loop reads them only when some
callback actually implements ``on_batch_end``.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._options import install_aliases, to_snake, unknown_option_error

HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_batch_begin",
    "on_batch_end",
)


class Callback:
    """Base class: override any of the ``on_*`` hooks (snake_case or TF.js camelCase).

    ``self.model`` is the model being trained and ``self.params`` fit's parameters
    (epochs, samples, steps, batchSize, ...). Setting ``self.model.stop_training = True``
    stops training after the current batch.

    Example:
        >>> class Printer(tf.callbacks.Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, logs['loss'])
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Attach the model being trained."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Receive fit's parameters (TF.js keys: epochs, samples, steps, batchSize ...)."""
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called once after the last epoch (also after an early stop)."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of each epoch."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called with the epoch's mean loss and metrics (and val_* ones)."""

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each batch."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called with ``{'batch', 'size', 'loss', <metrics>}`` after each batch."""


install_aliases(Callback, HOOKS + ("set_model", "set_params"))


def _overrides(cb: Callback, hook: str) -> Callable | None:
    """The hook a Callback subclass really implements, under either spelling, or None."""
    for name in (hook, _camel(hook)):
        impl = getattr(type(cb), name, None)
        base = getattr(Callback, name, None)
        if impl is not None and impl is not base and not _is_alias(impl):
            return getattr(cb, name)
    return None


def _camel(hook: str) -> str:
    head, *rest = hook.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _is_alias(fn: Any) -> bool:
    return (getattr(fn, "__doc__", "") or "").startswith("Alias of ")


class _DictCallback(Callback):
    """A dict of hook functions (TF.js's ``CustomCallbackArgs``)."""

    def __init__(self, hooks: Mapping[str, Callable]) -> None:
        super().__init__()
        self.hooks: dict[str, Callable] = {}
        for key, fn in hooks.items():
            snake = to_snake(key) if isinstance(key, str) else key
            if snake not in HOOKS:
                raise unknown_option_error("callbacks", str(key), HOOKS)
            if not callable(fn):
                raise TypeError(f"callback hook '{key}' must be a function, got {fn!r}")
            self.hooks[snake] = fn


class CallbackList:
    """The callbacks of one fit, called in order; knows whether batch logs are needed."""

    def __init__(self, callbacks: Any, model: Any, params: dict[str, Any]) -> None:
        self.callbacks = standardize(callbacks)
        self.table: dict[str, list[Callable]] = {h: [] for h in HOOKS}
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
            for hook in HOOKS:
                fn = cb.hooks.get(hook) if isinstance(cb, _DictCallback) else _overrides(cb, hook)
                if fn is not None:
                    self.table[hook].append(fn)

    @property
    def needs_batch_logs(self) -> bool:
        """Whether some callback reads per-batch loss values (each one costs a sync)."""
        return bool(self.table["on_batch_end"])

    def call(self, hook: str, *args: Any) -> None:
        for fn in self.table[hook]:
            fn(*args)


def standardize(callbacks: Any) -> list[Callback]:
    """None, a hooks dict, a Callback or a list of them -> a list of Callbacks."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Mapping | Callback):
        callbacks = [callbacks]
    if not isinstance(callbacks, Sequence) or isinstance(callbacks, str):
        raise TypeError(
            "callbacks must be a Callback, a dict of hooks such as {'on_batch_end': f}, or a "
            f"list of them; got {type(callbacks).__name__}"
        )
    out: list[Callback] = []
    for cb in callbacks:
        if isinstance(cb, Mapping):
            out.append(_DictCallback(cb))
        elif isinstance(cb, Callback):
            out.append(cb)
        else:
            raise TypeError(
                f"each callback must be a Callback or a dict of hooks, got {type(cb).__name__}"
            )
    return out


class History(Callback):
    """What ``fit`` returns: ``history`` (key -> list per epoch), ``epoch`` and ``params``.

    Example:
        >>> info = model.fit(x, y, epochs=5)
        >>> info.history['loss'][-1]
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


class EarlyStopping(Callback):
    """Stop when a monitored value stops improving (``tf.callbacks.earlyStopping``).

    Args:
        monitor: the log key to watch ('val_loss', 'loss', 'val_acc', ...).
        min_delta: a change smaller than this is no improvement.
        patience: epochs without improvement before stopping.
        mode: 'min', 'max' or 'auto' (max for accuracy-like keys, min otherwise).
        baseline: training stops if the value does not beat this within ``patience`` epochs.
        restore_best_weights: on stopping, put back the weights of the best epoch
            (TF.js does not have it; Keras does).

    Example:
        >>> stop = tf.callbacks.early_stopping(monitor='val_loss', patience=2)
        >>> model.fit(x, y, epochs=100, validation_split=0.2, callbacks=[stop])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"early_stopping mode must be 'auto', 'min' or 'max', got {mode!r}")
        if patience < 0:
            raise ValueError(f"early_stopping patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.endswith("precision")) else "min"
        self.mode = mode
        self.min_delta = abs(float(min_delta)) * (1 if mode == "max" else -1)
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf
        self.best_epoch: int | None = None
        self.best_weights: list | None = None

    def _improved(self, current: float, reference: float) -> bool:
        if self.mode == "max":
            return current - self.min_delta > reference
        return current - self.min_delta < reference

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = None
        self.best_weights = None
        if self.baseline is not None:
            self.best = float(self.baseline)
        else:
            self.best = -math.inf if self.mode == "max" else math.inf

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"early_stopping: metric '{self.monitor}' is not in the logs (available: "
                f"{', '.join(logs or {})}); doing nothing",
                stacklevel=2,
            )
            return
        if self._improved(current, self.best):
            self.best = current
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()  # device snapshots, no copy back
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)
            if self.verbose:
                print(f"Epoch {epoch + 1}: early stopping")


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite.

    Example:
        >>> model.fit(x, y, callbacks=[tf.callbacks.terminate_on_nan()])
    """

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True


def early_stopping(
    monitor: str = "val_loss",
    min_delta: float = 0.0,
    patience: int = 0,
    verbose: int = 0,
    mode: str = "auto",
    baseline: float | None = None,
    restore_best_weights: bool = False,
) -> EarlyStopping:
    """An EarlyStopping callback (TF.js's ``tf.callbacks.earlyStopping``); see the class."""
    return EarlyStopping(
        monitor, min_delta, patience, verbose, mode, baseline, restore_best_weights
    )


def terminate_on_nan() -> TerminateOnNaN:
    """A callback that stops training on a NaN or infinite batch loss."""
    return TerminateOnNaN()


def _fmt(logs: Mapping[str, float]) -> str:
    return " - ".join(f"{k}: {v:.4g}" for k, v in logs.items())


class Progress:
    """verbose=1: a live tqdm bar per epoch; verbose=2: one line per epoch; 0: nothing.

    The bar shows the latest batch loss, read at most every ``interval`` seconds, so drawing
    it does not force a device sync on every batch.
    """

    def __init__(self, verbose: int, epochs: int, steps: int | None, interval: float = 0.2):
        self.verbose = verbose
        self.epochs = epochs
        self.steps = steps
        self.interval = interval
        self.bar: Any = None
        self.last = 0.0
        self.start = 0.0

    def epoch_begin(self, epoch: int) -> None:
        self.start = time.perf_counter()
        if self.verbose == 1:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.steps,
                desc=f"Epoch {epoch + 1}/{self.epochs}",
                unit="batch",
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
            )
            self.last = time.perf_counter()

    def batch_end(self, read_logs: Callable[[], dict]) -> None:
        """One batch done; ``read_logs()`` (a sync) is called only when the bar is due."""
        if self.bar is None:
            return
        self.bar.update(1)
        now = time.perf_counter()
        if now - self.last >= self.interval:
            self.last = now
            self.bar.set_postfix_str(_fmt(read_logs()), refresh=False)

    def epoch_end(self, epoch: int, logs: Mapping[str, float]) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(_fmt(logs), refresh=False)
            self.bar.close()
            self.bar = None
        elif self.verbose == 2:
            took = time.perf_counter() - self.start
            print(f"Epoch {epoch + 1}/{self.epochs} - {took:.2f}s - {_fmt(logs)}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


install_aliases(sys.modules[__name__], ["early_stopping", "terminate_on_nan"])
