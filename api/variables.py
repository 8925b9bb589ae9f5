"""Variables: named, mutable tensors living on the device (TF.js's ``tf.variable``)."""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import numpy as np

from . import engine
from .compiler.ir import Node
from .compiler.ops import cast as cast_node
from .tensor import Tensor, check_dtype, tensor

_registry: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_ids = itertools.count()


def _leaf_for(var: Variable, source: Node) -> Node:
    """A fresh leaf node holding ``source``'s realised buffer, owned by ``var``."""
    engine.realize([source])
    n = Node("buffer", (), {}, source.shape, source.dtype)
    n.data, n.host, n.var, n.name = source.data, source.host, var, var.name
    return n


class Variable(Tensor):
    """A tensor whose value can be replaced with ``assign`` (updated in place by optimizers).

    Example:
        >>> v = tf.variable(tf.zeros([3]))
        >>> v.assign(tf.ones([3]))
    """

    __slots__ = ("name", "trainable")
    is_variable = True

    def __init__(
        self,
        initial: Any,
        trainable: bool = True,
        name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        init = initial if isinstance(initial, Tensor) else tensor(initial)
        dtype = check_dtype(dtype)
        node = init.node if dtype is None else cast_node(init.node, dtype)
        if name is None:
            name = str(next(_ids))
            while name in _registry:
                name = str(next(_ids))
        elif name in _registry:
            raise ValueError(f"Variable with name {name} was already registered")
        self.name = str(name)
        self.trainable = bool(trainable)
        super().__init__(Node("buffer", (), {}, node.shape, node.dtype))
        self._node = _leaf_for(self, node)
        _registry[self.name] = self

    def assign(self, value: Any) -> Variable:
        """Replace the value; shape and dtype must match the variable's."""
        v = value if isinstance(value, Tensor) else tensor(value, dtype=self.dtype)
        if list(v.shape) != self.shape:
            raise ValueError(
                f"shape of the new value {v.shape} does not match the shape of the "
                f"variable {self.name} {self.shape}"
            )
        if v.dtype != self.dtype:
            raise ValueError(
                f"dtype of the new value ({v.dtype}) does not match the dtype of "
                f"the variable {self.name} ({self.dtype})"
            )
        self._node = _leaf_for(self, v.node)
        return self

    def _set_buffer(self, buf, host: np.ndarray | None = None) -> None:
        """Adopt a device buffer computed by a step (no checks: the compiler typed it)."""
        n = Node("buffer", (), {}, self._node.shape, self._node.dtype)
        n.data, n.host, n.var, n.name = buf, host, self, self.name
        self._node = n

    def dispose(self) -> None:
        if self._node is not None and _registry.get(self.name) is self:
            del _registry[self.name]
        super().dispose()

    def __repr__(self) -> str:
        return f"Variable({self.name}, shape={self.shape}, dtype={self.dtype})"


def variable(
    initial_value: Any, trainable: bool = True, name: str | None = None, dtype: str | None = None
) -> Variable:
    """Create a Variable from a tensor or array-like (TF.js's ``tf.variable``).

    Args:
        initial_value: the starting value.
        trainable: whether optimizers update it when no var_list is given.
        name: a unique name (a duplicate raises); default a fresh number.
        dtype: optional cast of the initial value.

    Example:
        >>> w = tf.variable(tf.random_normal([784, 32]))
    """
    return Variable(initial_value, trainable, name, dtype)
