"""Gradients of traced Python functions: tf.grad, tf.grads, value_and_grad(s), variable_grads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import engine
from .compiler.autodiff import gradients
from .compiler.ir import Node, toposort
from .tensor import Tensor, tensor, wrap

NO_CONNECTION = (
    "Cannot find a connection between any variable and the result of the loss function "
    "y=f(x). Please make sure the operations that use variables are inside the function f "
    "passed to minimize()."
)


def trace(f: Callable, *args: Any) -> Any:
    """Call ``f`` recording a differentiable graph (values read inside keep their history)."""
    engine.tape_depth += 1
    try:
        return f(*args)
    finally:
        engine.tape_depth -= 1


def _check_scalar(y: Any, what: str) -> Tensor:
    if not isinstance(y, Tensor):
        raise TypeError(f"{what}: f must return a Tensor, got {type(y).__name__}")
    if y.rank != 0:
        raise ValueError(f"{what}: the result of f must be a scalar, got shape {y.shape}")
    return y


def _check_callable(f: Any, what: str) -> None:
    if not callable(f):
        raise TypeError(f"The f passed in {what}(f) must be a function, got {type(f).__name__}")


def _seed(y: Tensor, dy: Any) -> Node | None:
    if dy is None:
        return None
    d = dy if isinstance(dy, Tensor) else tensor(dy)
    if d.shape != y.shape:
        raise ValueError(f"dy must have the shape of f's result {y.shape}, got {d.shape}")
    return d.node


def _as_inputs(xs: Sequence[Any]) -> list[Tensor]:
    return [x if isinstance(x, Tensor) else tensor(x) for x in xs]


def _grads_of(y: Tensor, xs: Sequence[Tensor], dy: Any = None) -> list[Tensor]:
    gs = gradients(y.node, [x.node for x in xs], _seed(y, dy))
    from .ops import zeros_like

    return [wrap(g) if g is not None else zeros_like(x) for g, x in zip(gs, xs, strict=True)]


def grad(f: Callable[[Tensor], Tensor]) -> Callable:
    """``df/dx`` as a function of ``x`` (and an optional upstream gradient ``dy``).

    Example:
        >>> g = tf.grad(lambda x: x.square())
        >>> g(tf.tensor([3.0])).print()   # [6]
    """

    _check_callable(f, "grad")

    def g(x: Any, dy: Any = None) -> Tensor:
        (xt,) = _as_inputs([x])
        y = trace(f, xt)
        if not isinstance(y, Tensor):
            raise TypeError(f"grad: f must return a Tensor, got {type(y).__name__}")
        return _grads_of(y, [xt], dy)[0]

    return g


def grads(f: Callable[..., Tensor]) -> Callable:
    """Gradients of ``f(*xs)`` with respect to each argument."""

    _check_callable(f, "grads")

    def g(xs: Sequence[Any], dy: Any = None) -> list[Tensor]:
        ts = _as_inputs(xs)
        y = trace(f, *ts)
        if not isinstance(y, Tensor):
            raise TypeError(f"grads: f must return a Tensor, got {type(y).__name__}")
        return _grads_of(y, ts, dy)

    return g


def value_and_grad(f: Callable[[Tensor], Tensor]) -> Callable:
    """Like ``grad`` but returns ``{'value': f(x), 'grad': df/dx}``."""

    def g(x: Any, dy: Any = None) -> dict:
        (xt,) = _as_inputs([x])
        y = trace(f, xt)
        return {"value": y, "grad": _grads_of(y, [xt], dy)[0]}

    return g


def value_and_grads(f: Callable[..., Tensor]) -> Callable:
    """Like ``grads`` but returns ``{'value': f(*xs), 'grads': [...]}``."""

    def g(xs: Sequence[Any], dy: Any = None) -> dict:
        ts = _as_inputs(xs)
        y = trace(f, *ts)
        return {"value": y, "grads": _grads_of(y, ts, dy)}

    return g


def connected_variables(y: Node) -> list:
    """Variables whose current value feeds ``y``, in graph order."""
    out = []
    for n in toposort([y], lambda n: not n.inputs):
        if n.var is not None and not n.inputs:
            out.append(n.var)
    return out


def variable_grads(f: Callable[[], Tensor], var_list: Sequence | None = None) -> dict:
    """``{'value': f(), 'grads': {name: d f / d var}}`` for trainable variables used by f.

    Example:
        >>> r = tf.variable_grads(lambda: w.square().sum())
        >>> r['grads'][w.name]
    """
    y = _check_scalar(trace(f), "variable_grads")
    vars_ = (
        list(var_list)
        if var_list is not None
        else [v for v in connected_variables(y.node) if v.trainable]
    )
    gs = gradients(y.node, [v.node for v in vars_])
    pairs = [(v, g) for v, g in zip(vars_, gs, strict=True) if g is not None]
    if not pairs:
        raise ValueError(NO_CONNECTION)
    return {"value": y, "grads": {v.name: wrap(g) for v, g in pairs}}
