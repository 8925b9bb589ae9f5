"""The Tensor: a handle on a lazy IR node; values are computed on the device when read."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import engine
from .compiler.ir import DTYPES, Node
from .compiler.ops import NP_DTYPE, make

_live = {"tensors": 0}
_scopes: list[list] = []  # tf.tidy scopes: tensors created inside each


class DisposedError(ValueError):
    """A tensor was used after dispose()."""


def check_dtype(dtype: str | None) -> str | None:
    if dtype is None:
        return None
    d = str(dtype)
    d = {"float": "float32", "int": "int32", "float64": "float32", "int64": "int32"}.get(d, d)
    if d not in DTYPES:
        raise TypeError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
    return d


def buffer_node(array: np.ndarray) -> Node:
    """A leaf node holding ``array`` on the device (uploaded now, non-blocking)."""
    dtype = {"f": "float32", "i": "int32", "u": "int32", "b": "bool"}[array.dtype.kind]
    # ascontiguousarray alone would turn a 0-d array into shape (1,): keep the shape.
    host = np.ascontiguousarray(array, dtype=NP_DTYPE[dtype]).reshape(array.shape)
    n = Node("buffer", (), {}, tuple(host.shape), dtype)
    n.host = host
    n.data = engine.device().upload(host)
    return n


def buffer_tensor(buf, shape: tuple, dtype: str) -> Tensor:
    """A Tensor over a device buffer that some executable or copy already filled."""
    n = Node("buffer", (), {}, tuple(shape), dtype)
    n.data = buf
    return Tensor(n)


class Tensor:
    """An immutable n-dimensional array on the OpenCL device (TF.js's ``tf.Tensor``).

    Ops are recorded lazily; ``data()``, ``array()``, ``numpy()`` and ``print()`` compute.
    """

    __slots__ = ("_node", "kept", "__weakref__")
    __array_priority__ = 100  # numpy defers `ndarray + Tensor` to Tensor.__radd__

    def __init__(self, node: Node) -> None:
        self._node = node
        self.kept = False
        _live["tensors"] += 1
        if _scopes:
            _scopes[-1].append(self)

    def __del__(self) -> None:
        if getattr(self, "_node", None) is not None:
            _live["tensors"] -= 1

    # -- identity ---------------------------------------------------------------------------
    @property
    def node(self) -> Node:
        if self._node is None:
            raise DisposedError("Tensor is disposed: it was released by dispose() or tf.tidy()")
        return self._node

    @property
    def shape(self) -> list[int]:
        return list(self.node.shape)

    @property
    def dtype(self) -> str:
        return self.node.dtype

    @property
    def rank(self) -> int:
        return len(self.node.shape)

    @property
    def size(self) -> int:
        return self.node.size

    @property
    def is_disposed(self) -> bool:
        return self._node is None

    def dispose(self) -> None:
        """Release this handle; device memory is freed once nothing else needs the value."""
        if self._node is not None:
            self._node = None
            _live["tensors"] -= 1

    # -- reading values -----------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a numpy array (a copy)."""
        n = self.node
        if n.host is None:
            engine.realize([n])
            n.host = engine.device().download(n.data, n.shape, NP_DTYPE[n.dtype])
        return n.host.copy()

    def data_sync(self) -> np.ndarray:
        """The values as a flat numpy array (TF.js's ``dataSync``)."""
        return self.numpy().reshape(-1)

    def data(self) -> np.ndarray:
        """Same as ``data_sync`` (everything is synchronous in clflow)."""
        return self.data_sync()

    def array(self) -> Any:
        """The values as nested Python lists (a number for a scalar)."""
        return self.numpy().tolist()

    def array_sync(self) -> Any:
        return self.array()

    def to_string(self, verbose: bool = False) -> str:
        from .printing import format_tensor

        return format_tensor(self.numpy(), self.dtype, verbose)

    def print(self, verbose: bool = False) -> None:
        """Print like TF.js's ``tensor.print()``."""
        print(self.to_string(verbose))

    def __repr__(self) -> str:
        if self._node is None:
            return "Tensor(disposed)"
        return self.to_string()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a.astype(dtype) if dtype is not None else a

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def __bool__(self) -> bool:
        return bool(self._scalar())

    def __index__(self) -> int:
        if self.dtype != "int32":
            raise TypeError("only int32 scalar tensors can be used as an index")
        return int(self._scalar())

    def _scalar(self):
        if self.size != 1:
            raise ValueError(
                f"only a tensor with one element converts to a Python number, "
                f"this one has shape {self.shape}"
            )
        return self.numpy().reshape(-1)[0]

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a scalar tensor")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key: Any) -> Tensor:
        from .ops import getitem

        return getitem(self, key)


def to_node(x: Any, dtype: str | None = None) -> Node | float | int | bool:
    """A Tensor's node, a Python scalar as is, or anything array-like uploaded."""
    if isinstance(x, Tensor):
        return x.node
    if isinstance(x, bool | numbers.Number) and not isinstance(x, np.ndarray):
        return x.item() if isinstance(x, np.generic) else x
    return tensor(x, dtype=dtype).node


def wrap(node: Node) -> Tensor:
    return Tensor(node)


def op(name: str, *inputs: Any, **attrs: Any) -> Tensor:
    """Record one op on tensors / numbers / arrays and return the lazy result."""
    return Tensor(make(name, [to_node(i) for i in inputs], **attrs))


def _infer_values(values: Any) -> np.ndarray:
    if isinstance(values, Tensor):
        return values.numpy()
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, str | bytes):
        raise TypeError(f"tensor values must be numbers or booleans, got the string {values!r}")
    try:
        arr = np.array(values)
    except ValueError as e:
        raise ValueError(
            f"tensor values are ragged (nested lists of different lengths): {e}"
        ) from None
    if arr.dtype == object:
        raise ValueError(
            "tensor values are ragged or mixed: every nested list at one depth "
            "must have the same length and hold only numbers or booleans"
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"tensor values must be numbers or booleans, got {arr.dtype} values "
            f"such as {arr.reshape(-1)[:1].tolist()}"
        )
    return arr


def tensor(values: Any, shape: list[int] | None = None, dtype: str | None = None) -> Tensor:
    """Create a tensor from (nested) lists, numbers, numpy arrays or another tensor.

    Args:
        values: the values; Python numbers become float32 like in TF.js, numpy integer
            arrays int32, booleans bool.
        shape: optional shape; a single value fills it, otherwise sizes must match.
        dtype: 'float32', 'int32' or 'bool'.

    Example:
        >>> t = tf.tensor([[1, 2], [3, 4]])
        >>> t.shape
        [2, 2]
    """
    dtype = check_dtype(dtype)
    from_numpy = isinstance(values, np.ndarray | np.generic)
    arr = _infer_values(values)
    if dtype is None:
        kind = arr.dtype.kind
        dtype = "bool" if kind == "b" else ("int32" if kind in "iu" and from_numpy else "float32")
    if shape is not None:
        shape = [int(s) for s in shape]
        if arr.size == 1 and int(np.prod(shape)) != 1:
            arr = np.full(shape, arr.reshape(-1)[0])
        elif arr.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(
                f"based on the provided shape {shape}, the tensor should have "
                f"{int(np.prod(shape))} values but has {arr.size}"
            )
        arr = arr.reshape(shape)
    if dtype != "bool" and arr.dtype.kind == "f" and dtype == "int32":
        arr = arr.astype(np.int64)  # truncation like TF.js's cast
    return Tensor(buffer_node(arr.astype(NP_DTYPE[dtype])))


def scalar(value: Any, dtype: str | None = None) -> Tensor:
    """A rank-0 tensor."""
    arr = _infer_values(value)
    if arr.ndim != 0:
        raise ValueError(f"scalar() takes a single number, got shape {list(arr.shape)}")
    return tensor(arr.item() if not isinstance(value, np.ndarray) else arr, dtype=dtype)


def memory() -> dict:
    """Live tensors and device bytes, like TF.js's ``tf.memory()``."""
    info = engine.device().memory_info()
    return {
        "num_tensors": _live["tensors"],
        "num_bytes": info["bytes_in_use"],
        "num_buffers": info["num_buffers"],
        "pool_bytes": info["pool_bytes"],
        "peak_bytes": info["peak_bytes"],
        "unreliable": False,
    }


class tidy:  # noqa: N801 - TF.js spelling, used as a function and a context manager
    """Dispose every tensor created inside, except what is returned (or kept with ``keep``).

    Example:
        >>> y = tf.tidy(lambda: x.square().sum())
        >>> with tf.tidy():
        ...     tmp = x * 2
    """

    def __new__(cls, fn=None, *args):
        self = super().__new__(cls)
        if callable(fn) or (isinstance(fn, str) and args):
            f = args[0] if isinstance(fn, str) else fn
            with self:
                result = f()
                self._keep(result)
            return result
        return self

    def __init__(self, *args) -> None:
        pass

    def __enter__(self) -> tidy:
        _scopes.append([])
        self._kept: set[int] = set()
        return self

    def _keep(self, result: Any) -> None:
        stack = [result]
        while stack:
            r = stack.pop()
            if isinstance(r, Tensor):
                self._kept.add(id(r))
            elif isinstance(r, list | tuple):
                stack.extend(r)
            elif isinstance(r, dict):
                stack.extend(r.values())

    def __exit__(self, *exc) -> None:
        created = _scopes.pop()
        for t in created:
            if id(t) not in self._kept and not t.kept and not getattr(t, "is_variable", False):
                t.dispose()
            elif _scopes:
                _scopes[-1].append(t)  # a kept tensor belongs to the enclosing scope


def keep(t: Tensor) -> Tensor:
    """Keep ``t`` alive through the enclosing tf.tidy."""
    t.kept = True
    return t
