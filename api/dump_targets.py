"""What the dump tool can show: models, saved models, scripts, ``module:function``, callables.

Each target is run once inside ``dump.capture()``; a model (given, loaded or returned) gets the
train step ``fit`` would compile, traced on one synthetic batch of the right shape.
"""

from __future__ import annotations

import importlib
import os
import re
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .compiler.executable import Executable
from .dump import Dumped, DumpError, capture

_MODULE_FN = re.compile(r"^(?P<mod>[\w.]+|.+\.py):(?P<fn>[A-Za-z_]\w*)$")


def collect(target: Any, batch_size: int = 32) -> list[Dumped]:
    """Run ``target`` capturing every executable it compiles (see ``dump_graph``)."""
    if isinstance(target, Executable):
        from . import engine

        runner = next((r for r in engine._cache.values() if r.executable is target), None)
        return [Dumped(0, target, runner)]
    if _is_model(target):
        return _run(lambda: train_step(target, batch_size), "the model's train step")
    if callable(target):
        name = getattr(target, "__name__", type(target).__name__)
        return _run(lambda: _maybe_step(target(), batch_size), f"{name}()")
    if not isinstance(target, str | os.PathLike):
        raise DumpError(
            f"cannot dump a {type(target).__name__}; expected a model, a model.json "
            "path or directory, a .py file, 'module:function' or a callable"
        )
    text = os.fspath(target)
    p = Path(text)
    m = _MODULE_FN.match(text)
    if p.is_dir() or p.suffix == ".json":
        model = load_model(text)
        return _run(lambda: train_step(model, batch_size), f"the train step of {text}")
    if p.suffix == ".py" and m is None:
        if not p.is_file():
            raise DumpError(f"no Python file at '{text}'")
        return _run(lambda: _run_script(p, batch_size), text)
    if m is not None:
        fn = _load_function(m.group("mod"), m.group("fn"))
        return _run(lambda: _maybe_step(fn(), batch_size), text)
    raise DumpError(
        f"'{text}' is not a model directory, a model.json, a .py file nor "
        "'module:function'" + ("" if p.exists() else " (no such file)")
    )


def _is_model(x: Any) -> bool:
    from .models import LayersModel

    return isinstance(x, LayersModel)


def _run(fn: Callable[[], Any], what: str) -> list[Dumped]:
    with capture() as got:
        try:
            fn()
        except DumpError:
            raise
        except SystemExit as e:
            if e.code not in (None, 0):
                raise DumpError(f"{what} exited with status {e.code}") from None
        except Exception as e:
            raise DumpError(f"{what} raised {type(e).__name__}: {e}") from None
    if not got:
        raise DumpError(
            f"{what} compiled nothing: it must build a model, or compute values "
            "or run a training step with clflow"
        )
    return [Dumped(k, c.exe, c.runner) for k, c in enumerate(got)]


def load_model(path: str) -> Any:
    """A saved layers model, with clear errors for missing or corrupt files."""
    from .models import load_layers_model

    try:
        return load_layers_model(path)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DumpError(f"cannot load a model from '{path}': {e}") from None


def _run_script(path: Path, batch_size: int) -> None:
    """Run a script as __main__; if it compiled nothing but left a model, trace its step."""
    from . import dump

    sink = dump._sinks[-1]
    before = len(sink)
    sys.path.insert(0, str(path.resolve().parent))
    try:
        ns = runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.path.pop(0)
    if len(sink) == before:
        models = [v for v in ns.values() if _is_model(v)]
        if models:
            train_step(models[-1], batch_size)


def _load_function(module: str, fn: str) -> Callable[[], Any]:
    if module.endswith(".py"):
        if not Path(module).is_file():
            raise DumpError(f"no Python file at '{module}'")
        ns = runpy.run_path(module)
        obj = ns.get(fn)
    else:
        sys.path.insert(0, os.getcwd())
        try:
            mod = importlib.import_module(module)
        except Exception as e:
            raise DumpError(f"cannot import module '{module}': {type(e).__name__}: {e}") from None
        finally:
            sys.path.pop(0)
        obj = getattr(mod, fn, None)
    if not callable(obj):
        raise DumpError(f"'{module}' has no function '{fn}'")
    return obj


def _maybe_step(result: Any, batch_size: int) -> None:
    if _is_model(result):
        train_step(result, batch_size)


def train_step(model: Any, batch_size: int = 32) -> None:
    """One ``train_on_batch`` on synthetic data, compiling with the model's trainingConfig
    (or sgd / categoricalCrossentropy), like the guide's ``fit``."""
    import clflow as tf

    cfg = getattr(model, "loaded_training_config", None) or {}
    loss = cfg.get("loss") or "categoricalCrossentropy"
    xs, ys = synthetic_batch(model, batch_size, loss)
    try:
        from . import training  # noqa: F401
    except ImportError:
        return _core_step(model, xs, ys)
    if not getattr(model, "is_compiled", False):
        opt = (cfg.get("optimizer_config") or {}).get("class_name", "sgd")
        model.compile(optimizer=opt.lower(), loss=loss, metrics=cfg.get("metrics"))
    model.train_on_batch(tf.tensor(xs), tf.tensor(ys))


def synthetic_batch(model: Any, batch_size: int, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs of the model's input shape and targets fit for ``loss``."""
    rng = np.random.default_rng(0)
    in_shape = [batch_size] + [d or 1 for d in model.input_shape[1:]]
    out_shape = [batch_size] + [d or 1 for d in model.output_shape[1:]]
    xs = rng.standard_normal(in_shape).astype(np.float32)
    if "crossentropy" in loss.lower().replace("_", ""):
        ys = np.eye(out_shape[-1], dtype=np.float32)[rng.integers(0, out_shape[-1], out_shape[:-1])]
    else:
        ys = rng.random(out_shape, dtype=np.float32)
    return xs, ys


def _core_step(model: Any, xs: np.ndarray, ys: np.ndarray) -> None:
    """Until clflow.training exists: the same step through the Core API (sgd, crossentropy)."""
    import clflow as tf

    x, y = tf.tensor(xs), tf.tensor(ys)

    def loss() -> Any:
        p = model.apply(x)
        return tf.neg((y * tf.log(p + 1e-7)).sum(axis=-1)).mean()

    tf.train.sgd(0.01).minimize(loss)
