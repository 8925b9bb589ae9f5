"""Host-side input pipelines: the TF.js ``tf.data`` API (generator, array, zip, csv, Dataset)."""

from __future__ import annotations

import builtins
import csv as _csv
import difflib
import hashlib
import inspect
import itertools
import math
import numbers
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
from clflow._options import install_aliases, tfjs_options

__all__ = ["CSVDataset", "Dataset", "array", "csv", "generator", "zip"]

_END = object()
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class Dataset:
    """A re-iterable stream of elements, transformed lazily like TF.js's ``tf.data.Dataset``.

    Every pass (``for x in ds``, ``iterator()``, ``for_each``) starts again from the source, so
    one dataset serves every epoch. Subclasses implement ``iterator()`` and may set ``size``.

    Attributes:
        size: number of elements when known, ``math.inf`` for an endless stream, else ``None``.

    Example:
        >>> ds = tf.data.array([1, 2, 3, 4, 5]).map(lambda x: x * 2).batch(2)
        >>> [b.numpy().tolist() for b in ds]
        [[2, 4], [6, 8], [10]]
    """

    size: int | float | None = None

    def iterator(self) -> Iterator[Any]:
        """Return a fresh iterator over the elements (a new pass over the source)."""
        raise NotImplementedError(f"{type(self).__name__} must implement iterator()")

    def __iter__(self) -> Iterator[Any]:
        return iter(self.iterator())

    def __repr__(self) -> str:
        name = "Dataset" if type(self) is _FnDataset else type(self).__name__
        return f"<{name} size={self.size}>"

    @tfjs_options(positional=1)
    def batch(self, batch_size: int, small_last_batch: bool = True) -> Dataset:
        """Group consecutive elements into batches, stacking numeric leaves into tensors.

        Numbers become a 1-D tensor, arrays/tensors of shape S a tensor [n, *S] (float32, int32
        or bool), strings a list; dicts, tuples and lists of those are batched leaf by leaf.

        Args:
            batch_size: elements per batch, a positive int.
            small_last_batch: keep the final partial batch (TF.js default) instead of dropping it.

        Example:
            >>> ds = tf.data.array([{'x': [1, 2], 'y': 0}] * 100).batch(32)
            >>> [b['x'].shape for b in ds]
            [[32, 2], [32, 2], [32, 2], [4, 2]]
        """
        _check_count("Dataset.batch()", "batch_size", batch_size, minimum=1)
        size = self.size
        if size is not None and size != math.inf:
            size = math.ceil(size / batch_size) if small_last_batch else size // batch_size
        base = self

        def batches() -> Iterator[Any]:
            rows: list[Any] = []
            for element in base.iterator():
                rows.append(element)
                if len(rows) == batch_size:
                    yield _batch_rows(rows)
                    rows = []
            if rows and small_last_batch:
                yield _batch_rows(rows)

        return _FnDataset(batches, size)

    def concatenate(self, dataset: Dataset) -> Dataset:
        """Return the elements of this dataset followed by those of ``dataset``.

        Args:
            dataset: the dataset to append.

        Example:
            >>> tf.data.array([1, 2]).concatenate(tf.data.array([3])).to_array()
            [1, 2, 3]
        """
        if not isinstance(dataset, Dataset):
            raise TypeError(
                f"Dataset.concatenate() expects a tf.data.Dataset, got {type(dataset).__name__}"
            )
        if math.inf in (self.size, dataset.size):
            size = math.inf
        elif self.size is not None and dataset.size is not None:
            size = self.size + dataset.size
        else:
            size = None
        first, second = self, dataset
        return _FnDataset(lambda: itertools.chain(first.iterator(), second.iterator()), size)

    def filter(self, predicate: Callable[[Any], Any]) -> Dataset:
        """Keep only the elements for which ``predicate(element)`` is true.

        Args:
            predicate: function of one element returning a truth value.

        Example:
            >>> tf.data.array([1, 2, 3, 4]).filter(lambda x: x % 2 == 0).to_array()
            [2, 4]
        """
        _check_callable("Dataset.filter()", "predicate", predicate)
        base = self
        size = math.inf if self.size == math.inf else None
        return _FnDataset(lambda: (x for x in base.iterator() if predicate(x)), size)

    def for_each(self, f: Callable[[Any], Any]) -> None:
        """Call ``f`` on every element, in order (TF.js ``forEachAsync``, synchronously).

        Args:
            f: function of one element; its result is ignored.

        Example:
            >>> seen = []
            >>> tf.data.array([1, 2]).for_each(seen.append)
            >>> seen
            [1, 2]
        """
        _check_callable("Dataset.for_each()", "f", f)
        if self.size == math.inf:
            raise ValueError("Dataset.for_each(): cannot iterate over an infinite dataset")
        for element in self.iterator():
            f(element)

    for_each_async = for_each  # TF.js forEachAsync; clflow pipelines are synchronous

    def map(self, transform: Callable[[Any], Any]) -> Dataset:
        """Apply ``transform`` to every element.

        Args:
            transform: function of one element returning the new element.

        Example:
            >>> tf.data.array([1, 2]).map(lambda x: {'x': x}).to_array()
            [{'x': 1}, {'x': 2}]
        """
        _check_callable("Dataset.map()", "transform", transform)
        base = self
        return _FnDataset(lambda: builtins.map(transform, base.iterator()), self.size)

    map_async = map  # TF.js mapAsync

    def prefetch(self, buffer_size: int) -> Dataset:
        """Return the same stream; kept for TF.js parity (clflow pipelines are synchronous).

        Args:
            buffer_size: number of elements TF.js would read ahead, a positive int.

        Example:
            >>> ds = tf.data.array([1, 2, 3]).prefetch(2)
        """
        _check_count("Dataset.prefetch()", "buffer_size", buffer_size, minimum=1)
        return _FnDataset(self.iterator, self.size)

    def repeat(self, count: int | None = None) -> Dataset:
        """Repeat the dataset ``count`` times; ``None`` or a negative count repeats forever.

        Args:
            count: number of passes over the source.

        Example:
            >>> tf.data.array([1, 2]).repeat(2).to_array()
            [1, 2, 1, 2]
        """
        if count is not None:
            _check_count("Dataset.repeat()", "count", count, minimum=None)
        forever = count is None or count < 0
        if count == 0 or self.size == 0:
            size: int | float | None = 0
        elif self.size is None:
            size = None
        else:
            size = math.inf if forever else self.size * count
        base = self

        def repeated() -> Iterator[Any]:
            done = 0
            while forever or done < count:
                empty = True
                for element in base.iterator():
                    empty = False
                    yield element
                done += 1
                if empty:  # an empty source repeated forever would spin without yielding
                    return

        return _FnDataset(repeated, size)

    @tfjs_options(positional=1)
    def shuffle(
        self,
        buffer_size: int,
        seed: int | str | None = None,
        reshuffle_each_iteration: bool = True,
    ) -> Dataset:
        """Shuffle with a buffer: fill it, then emit a random entry and refill its slot.

        A buffer at least as large as the dataset gives a uniform permutation.

        Args:
            buffer_size: number of elements held in the buffer, a positive int.
            seed: makes the sequence of orders reproducible (int or str).
            reshuffle_each_iteration: draw a new order each pass instead of repeating the first.

        Example:
            >>> tf.data.array(list(range(5))).shuffle(5, seed=1).to_array()  # e.g. [3, 0, 4, 1, 2]
        """
        if buffer_size is None:
            hint = f" (e.g. the dataset size, {self.size})" if self.size is not None else ""
            raise ValueError(f"Dataset.shuffle() requires buffer_size to be specified{hint}")
        _check_count("Dataset.shuffle()", "buffer_size", buffer_size, minimum=1)
        root = np.random.SeedSequence(_seed_entropy(seed))
        base = self

        def shuffled() -> Iterator[Any]:
            # spawn() gives a new independent stream per pass; the root itself repeats the order.
            seq = root.spawn(1)[0] if reshuffle_each_iteration else root
            return _buffer_shuffle(base.iterator(), buffer_size, np.random.default_rng(seq))

        return _FnDataset(shuffled, self.size)

    def skip(self, count: int) -> Dataset:
        """Drop the first ``count`` elements (a negative count drops none).

        Args:
            count: number of elements to skip.

        Example:
            >>> tf.data.array([1, 2, 3]).skip(2).to_array()
            [3]
        """
        _check_count("Dataset.skip()", "count", count, minimum=None)
        count = max(count, 0)
        size = None if self.size is None else max(self.size - count, 0)
        base = self
        return _FnDataset(lambda: itertools.islice(base.iterator(), count, None), size)

    def take(self, count: int) -> Dataset:
        """Keep only the first ``count`` elements (a negative count keeps all).

        Args:
            count: number of elements to take.

        Example:
            >>> tf.data.array([1, 2, 3]).take(2).to_array()
            [1, 2]
        """
        _check_count("Dataset.take()", "count", count, minimum=None)
        base = self
        if count < 0:
            return _FnDataset(base.iterator, self.size)
        size = None if self.size is None else min(self.size, count)
        return _FnDataset(lambda: itertools.islice(base.iterator(), count), size)

    def to_array(self) -> list[Any]:
        """Return all elements as a list.

        Example:
            >>> tf.data.array([1, 2]).to_array()
            [1, 2]
        """
        if self.size == math.inf:
            raise ValueError("Dataset.to_array(): cannot convert an infinite dataset to a list")
        return list(self.iterator())


class _FnDataset(Dataset):
    """A dataset whose passes come from calling ``fn()`` (TF.js ``datasetFromIteratorFn``)."""

    def __init__(self, fn: Callable[[], Iterable[Any]], size: int | float | None) -> None:
        self._fn = fn
        self.size = size

    def iterator(self) -> Iterator[Any]:
        """Start a new pass."""
        return iter(self._fn())


def generator(generator: Callable[[], Iterable[Any]]) -> Dataset:
    """Create a dataset from a generator function, called anew for every pass (epoch).

    Args:
        generator: a function returning an iterator, typically a ``def`` with ``yield``.
            Pass the function itself (``data``), not a generator object (``data()``).

    Example:
        >>> def data():
        ...     for i in range(100):
        ...         yield tf.random_normal([784])
        >>> xs = tf.data.generator(data)
    """
    fn = generator
    if inspect.isgenerator(fn) or isinstance(fn, Iterator):
        raise TypeError(
            "tf.data.generator() expects a generator function, e.g. tf.data.generator(data), "
            f"but got a {type(fn).__name__} object (did you write data() instead of data?); "
            "an already-created generator can be iterated only once, so later epochs would be "
            "empty"
        )
    if not callable(fn):
        raise TypeError(
            "tf.data.generator() expects a generator function (a callable returning an "
            f"iterator), got {type(fn).__name__}"
        )
    name = getattr(fn, "__name__", "the generator function")

    def start() -> Iterator[Any]:
        produced = fn()
        if not isinstance(produced, Iterable):
            raise TypeError(
                f"the function passed to tf.data.generator() must return an iterator, but "
                f"{name}() returned {type(produced).__name__}"
            )
        return iter(produced)

    return _FnDataset(start, None)


def array(items: Any) -> Dataset:
    """Create a dataset whose elements are the items of a list (or rows of an array).

    Args:
        items: a list/tuple of numbers, strings, dicts, arrays or tensors; a numpy array or
            tensor is split along its first axis.

    Example:
        >>> tf.data.array([{'x': 1, 'y': 2}, {'x': 3, 'y': 4}]).batch(2).to_array()
    """
    if isinstance(items, np.ndarray) or _is_tensor(items):
        values = np.asarray(items.numpy() if _is_tensor(items) else items)
        if values.ndim == 0:
            raise TypeError("tf.data.array() expects a list or an array of rank >= 1, got a scalar")
        elements = list(values)
    elif isinstance(items, (list, tuple)):
        elements = list(items)
    else:
        raise TypeError(
            f"tf.data.array() expects a list of elements (or a numpy array), got "
            f"{type(items).__name__}"
        )
    return _FnDataset(lambda: iter(elements), len(elements))


def zip(datasets: Mapping[str, Any] | list[Any] | tuple[Any, ...]) -> Dataset:
    """Combine datasets element-wise into dicts/lists/tuples, stopping at the shortest.

    Args:
        datasets: a dict, list or tuple (possibly nested) whose leaves are datasets.

    Example:
        >>> ds = tf.data.zip({'xs': xs, 'ys': ys})  # elements {'xs': x, 'ys': y}
    """
    if isinstance(datasets, Dataset):
        raise TypeError(
            "tf.data.zip() expects a dict, list or tuple of datasets, got a single Dataset; "
            "wrap it, e.g. tf.data.zip({'xs': xs, 'ys': ys})"
        )
    if not isinstance(datasets, (Mapping, list, tuple)):
        raise TypeError(
            "tf.data.zip() expects a dict, list or tuple of datasets, got "
            f"{type(datasets).__name__}"
        )
    leaves: list[Dataset] = []

    def check(leaf: Any, path: str) -> Any:
        if not isinstance(leaf, Dataset):
            raise TypeError(
                f"tf.data.zip(): the leaf at {_where(path)} must be a tf.data.Dataset, "
                f"got {type(leaf).__name__}"
            )
        leaves.append(leaf)
        return leaf

    _map_structure(check, datasets)
    if not leaves:
        raise ValueError("tf.data.zip() needs at least one dataset")
    sizes = [d.size for d in leaves]
    size = None if None in sizes else min(sizes)

    def zipped() -> Iterator[Any]:
        streams = _map_structure(lambda d, _p: iter(d.iterator()), datasets)
        while True:
            try:
                element = _map_structure(lambda it, _p: next(it), streams)
            except StopIteration:
                return
            yield element

    return _FnDataset(zipped, size)


def _map_structure(fn: Callable[[Any, str], Any], struct: Any, path: str = "") -> Any:
    """Rebuild a nest of dicts/lists/tuples with ``fn(leaf, path)`` applied to each leaf."""
    if isinstance(struct, Mapping):
        return {k: _map_structure(fn, v, _join(path, k)) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        items = [_map_structure(fn, v, f"{path}[{i}]") for i, v in enumerate(struct)]
        return _same_sequence(struct, items)
    return fn(struct, path)


def _same_sequence(like: list | tuple, items: list[Any]) -> list | tuple:
    """Build a sequence of the same kind as ``like`` (list, tuple or namedtuple)."""
    if isinstance(like, tuple):
        return type(like)(*items) if hasattr(like, "_fields") else tuple(items)
    return items


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _where(path: str) -> str:
    return f"'{path}'" if path else "the element"


def _batch_rows(rows: list[Any], path: str = "") -> Any:
    """Batch a list of same-structure elements: recurse into containers, stack the leaves."""
    first = rows[0]
    if isinstance(first, Mapping):
        keys = list(first.keys())
        for j, row in enumerate(rows):
            if not isinstance(row, Mapping) or set(row.keys()) != set(keys):
                got = sorted(map(str, row.keys())) if isinstance(row, Mapping) else type(row)
                raise ValueError(
                    f"batch(): elements must share one structure, but at {_where(path)} element "
                    f"0 has keys {sorted(map(str, keys))} and element {j} has {got}"
                )
        return {k: _batch_rows([row[k] for row in rows], _join(path, k)) for k in keys}
    if isinstance(first, (list, tuple)) and not _is_numeric_nest(first):
        for j, row in enumerate(rows):
            if type(row) is not type(first) or len(row) != len(first):
                got = f"{type(row).__name__} of length {len(row)}" if _has_len(row) else row
                raise ValueError(
                    f"batch(): elements must share one structure, but at {_where(path)} element "
                    f"0 is a {type(first).__name__} of length {len(first)} and element {j} is "
                    f"{got}"
                )
        items = [_batch_rows([row[i] for row in rows], f"{path}[{i}]") for i in range(len(first))]
        return _same_sequence(first, items)
    return _stack_leaf(rows, path)


def _has_len(x: Any) -> bool:
    return hasattr(x, "__len__")


def _is_numeric_nest(x: Any) -> bool:
    """True for rectangular (nested) lists of plain numbers, which TF.js turns into one tensor."""
    if not _numbers_only(x):
        return False
    try:
        np.asarray(x)
    except ValueError:  # ragged, e.g. (label, [f1, f2]): a structure, batched item by item
        return False
    return True


def _numbers_only(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return all(_numbers_only(v) for v in x)
    return isinstance(x, (numbers.Number, np.number, np.bool_)) and not isinstance(x, complex)


def _is_tensor(x: Any) -> bool:
    return hasattr(x, "numpy") and hasattr(x, "shape") and not isinstance(x, np.ndarray)


def _stack_leaf(rows: list[Any], path: str) -> Any:
    """Stack one leaf across a batch into a tensor (or a list of strings)."""
    if all(isinstance(r, str) for r in rows):
        return list(rows)
    arrays = []
    for j, row in enumerate(rows):
        if row is None:
            raise ValueError(
                f"batch(): {_where(path)} of element {j} is missing (None); give every element a "
                "value (for csv, set a column default)"
            )
        if _is_tensor(row):
            arrays.append(np.asarray(row.numpy()))
        elif isinstance(row, (str, numbers.Number, np.generic, np.ndarray, list, tuple)):
            try:
                arrays.append(np.asarray(row))
            except ValueError as err:
                raise ValueError(
                    f"batch(): {_where(path)} of element {j} is ragged: {err}"
                ) from None
        else:
            raise TypeError(
                f"batch(): cannot batch a {type(row).__name__} at {_where(path)} (element {j}); "
                "expected numbers, strings, numpy arrays, tensors, or dicts/lists of these"
            )
    kinds = {a.dtype.kind for a in arrays}
    if kinds & set("USO") and len(kinds) > 1:
        raise TypeError(f"batch(): {_where(path)} mixes strings and numbers across elements")
    for j, a in enumerate(arrays):
        if a.shape != arrays[0].shape:
            raise ValueError(
                f"batch(): cannot stack {_where(path)}: element 0 has shape "
                f"{list(arrays[0].shape)} but element {j} has shape {list(a.shape)}"
            )
    stacked = np.stack(arrays)
    if stacked.dtype.kind in "US":
        return stacked.tolist()
    return _to_tensor(stacked, path)


def _to_tensor(values: np.ndarray, path: str = "") -> Any:
    """Turn a stacked numpy batch into a clflow tensor with TF.js's dtype for it."""
    kind = values.dtype.kind
    if kind == "f":
        dtype = "float32"
    elif kind in "iu":
        if values.size and (values.min() < _INT32_MIN or values.max() > _INT32_MAX):
            raise ValueError(f"batch(): integers at {_where(path)} do not fit in int32")
        dtype = "int32"
    elif kind == "b":
        dtype = "bool"
    else:
        raise TypeError(
            f"batch(): cannot make a tensor from {values.dtype} values at {_where(path)}; "
            "expected floats, ints or bools"
        )
    return _tensor_factory()(np.ascontiguousarray(values, dtype=dtype), dtype=dtype)


def _tensor_factory() -> Callable[..., Any]:
    """Return ``clflow.tensor`` (imported lazily: the engine imports nothing from here)."""
    import clflow

    factory = clflow.tensor
    # clflow.tensor may be the submodule when the package binds the function elsewhere.
    return factory if callable(factory) else factory.tensor


def _buffer_shuffle(
    source: Iterable[Any], buffer_size: int, rng: np.random.Generator
) -> Iterator[Any]:
    """TF.js's ShuffleIterator: emit a random buffered element, refill its slot from upstream."""
    upstream = iter(source)
    buffer = list(itertools.islice(upstream, buffer_size))
    exhausted = len(buffer) < buffer_size
    while buffer:
        i = int(rng.integers(len(buffer)))
        chosen = buffer[i]
        refill = _END if exhausted else next(upstream, _END)
        if refill is _END:
            exhausted = True
            buffer[i] = buffer[-1]
            buffer.pop()
        else:
            buffer[i] = refill
        yield chosen


def _seed_entropy(seed: int | str | None) -> int | None:
    """Map a TF.js-style seed (number or string) onto numpy SeedSequence entropy."""
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return None if seed is None else int(seed) & (2**128 - 1)  # SeedSequence wants >= 0
    if isinstance(seed, str):
        return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:16], "little")
    raise TypeError(f"Dataset.shuffle(): seed must be an int or a str, got {type(seed).__name__}")


def _check_count(where: str, name: str, value: Any, minimum: int | None) -> None:
    """Raise unless ``value`` is an int (and at least ``minimum`` when given)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{where}: {name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value}")


def _check_callable(where: str, name: str, fn: Any) -> None:
    if not callable(fn):
        raise TypeError(f"{where}: {name} must be a function, got {type(fn).__name__}")


# --- CSV ------------------------------------------------------------------------------------

_COLUMN_CONFIG_KEYS = {"required", "dtype", "default", "is_label", "isLabel"}
_CSV_DTYPES = {"float32", "int32", "bool", "string"}


class CSVDataset(Dataset):
    """Rows of a local CSV file as dicts, ``{'xs': ..., 'ys': ...}`` when labels are configured.

    Built by ``tf.data.csv``; the file is read again on every pass, header checked up front.

    Example:
        >>> ds = tf.data.csv('iris.csv', column_configs={'species': {'is_label': True}})
        >>> ds.column_names()
        ['sepal_length', 'sepal_width', 'species']
    """

    def __init__(
        self,
        source: str | os.PathLike[str],
        has_header: bool = True,
        column_names: list[str] | None = None,
        column_configs: Mapping[str, Mapping[str, Any]] | None = None,
        configured_columns_only: bool = False,
        delimiter: str = ",",
        delim_whitespace: bool = False,
    ) -> None:
        path = os.fspath(source)
        if isinstance(path, str) and path.startswith("file://"):
            path = path[len("file://") :]
        if not os.path.isfile(path):
            raise FileNotFoundError(f"tf.data.csv(): no such file: {path!r}")
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise ValueError(f"tf.data.csv(): delimiter must be one character, got {delimiter!r}")
        if delim_whitespace and delimiter != ",":
            raise ValueError("tf.data.csv(): give either delimiter or delim_whitespace, not both")
        if configured_columns_only and not column_configs:
            raise ValueError(
                "tf.data.csv(): column_configs must be given when configured_columns_only=True"
            )
        self._path = path
        self._has_header = has_header
        self._delimiter = delimiter
        self._delim_whitespace = delim_whitespace
        self._configured_only = configured_columns_only
        self._configs = _normalize_column_configs(column_configs)
        self._names = self._resolve_names(column_names)
        self.size = None

    def column_names(self) -> list[str]:
        """Return the names of the columns the elements contain."""
        return list(self._configs) if self._configured_only else list(self._names)

    def iterator(self) -> Iterator[Any]:
        """Start a new pass over the file."""
        return builtins.map(self._make_element, self._records(skip_header=self._has_header))

    def _records(self, skip_header: bool) -> Iterator[tuple[int, list[str]]]:
        """Yield (line number, fields) for each non-blank record."""
        with open(self._path, newline="", encoding="utf-8-sig") as f:
            if self._delim_whitespace:
                rows: Iterable[tuple[int, list[str]]] = (
                    (n, ln.split()) for n, ln in enumerate(f, 1)
                )
            else:
                reader = _csv.reader(f, delimiter=self._delimiter)
                rows = ((reader.line_num, row) for row in reader)
            first = True
            for lineno, row in rows:
                if not row or (len(row) == 1 and not row[0].strip()):  # blank line
                    continue
                if first and skip_header:
                    first = False
                    continue
                first = False
                yield lineno, row

    def _resolve_names(self, given: list[str] | None) -> list[str]:
        """Check the header / given names against each other and against column_configs."""
        header = None
        if self._has_header:
            records = self._records(skip_header=False)
            try:
                header = next((row for _, row in records), None)
            finally:
                records.close()  # closes the file now rather than at garbage collection
            if header is None and given is None:
                raise ValueError(f"tf.data.csv(): {self._path!r} is empty; expected a header line")
            header = [h.strip() for h in header] if header is not None else None
        if given is None and header is None:
            raise ValueError("tf.data.csv(): column_names must be provided when has_header=False")
        if given is not None:
            given = [str(n) for n in given]
            if header is not None and len(header) != len(given):
                raise ValueError(
                    f"tf.data.csv(): {len(given)} column_names were given but the header line of "
                    f"{self._path!r} has {len(header)} columns"
                )
        names = given if given is not None else header
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"tf.data.csv(): duplicate column names {duplicates}")
        for key in self._configs:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"tf.data.csv(): column_configs key {key!r} is not a column of "
                    f"{self._path!r} (columns: {names}){hint}"
                )
        return names

    def _make_element(self, record: tuple[int, list[str]]) -> dict[str, Any]:
        """Parse one record as TF.js's CSVDataset.makeDataElement does."""
        lineno, values = record
        if len(values) != len(self._names):
            raise ValueError(
                f"tf.data.csv(): line {lineno} of {self._path!r} has {len(values)} values, "
                f"expected {len(self._names)} (columns {self._names})"
            )
        features: dict[str, Any] = {}
        labels: dict[str, Any] = {}
        for name, raw in builtins.zip(self._names, values, strict=True):
            config = self._configs.get(name)
            if config is None and self._configured_only:
                continue
            config = config or {}
            if raw.strip() == "":
                if "default" in config:
                    value = config["default"]
                elif config.get("required") or config.get("is_label"):
                    raise ValueError(
                        f"tf.data.csv(): required column {name!r} is empty on line {lineno} of "
                        f"{self._path!r}"
                    )
                else:
                    value = None
            else:
                value = _parse_value(raw, config.get("dtype"))
            (labels if config.get("is_label") else features)[name] = value
        return {"xs": features, "ys": labels} if labels else features


def _normalize_column_configs(configs: Any) -> dict[str, dict[str, Any]]:
    """Validate column_configs, accepting TF.js's ``isLabel`` spelling."""
    if configs is None:
        return {}
    if not isinstance(configs, Mapping):
        raise TypeError(
            f"tf.data.csv(): column_configs must be a dict of column name -> config dict, got "
            f"{type(configs).__name__}"
        )
    out = {}
    for name, config in configs.items():
        if not isinstance(config, Mapping):
            raise TypeError(
                f"tf.data.csv(): column_configs[{name!r}] must be a dict, got "
                f"{type(config).__name__}"
            )
        for key in config:
            if key not in _COLUMN_CONFIG_KEYS:
                close = difflib.get_close_matches(str(key), sorted(_COLUMN_CONFIG_KEYS), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TypeError(
                    f"tf.data.csv(): unknown option {key!r} in column_configs[{name!r}] "
                    f"(expected {sorted(_COLUMN_CONFIG_KEYS - {'isLabel'})}){hint}"
                )
        normalized = dict(config)
        if "isLabel" in normalized:
            normalized["is_label"] = normalized.pop("isLabel")
        dtype = normalized.get("dtype")
        if dtype is not None and dtype not in _CSV_DTYPES:
            raise ValueError(
                f"tf.data.csv(): column_configs[{name!r}] dtype must be one of "
                f"{sorted(_CSV_DTYPES)}, got {dtype!r}"
            )
        out[str(name)] = normalized
    return out


def _parse_value(raw: str, dtype: str | None) -> Any:
    """Parse a CSV field: numbers as float unless dtype says int32/bool, else keep the string."""
    if dtype == "string":
        return raw
    try:
        number = float(raw) if "_" not in raw else None  # JS Number() rejects '1_000'
    except ValueError:
        number = None
    if dtype == "bool":
        return raw.strip() == "1" or raw.strip().lower() == "true"
    if number is None:
        return raw
    if dtype == "int32":
        return math.floor(number)
    return number


@tfjs_options(positional=1)
def csv(
    source: str | os.PathLike[str],
    has_header: bool = True,
    column_names: list[str] | None = None,
    column_configs: Mapping[str, Mapping[str, Any]] | None = None,
    configured_columns_only: bool = False,
    delimiter: str = ",",
    delim_whitespace: bool = False,
) -> CSVDataset:
    """Create a dataset from a local CSV file; each row becomes a dict of column -> value.

    Numbers are parsed (float, or int/bool when a column's dtype says so); other fields stay
    strings. When a column config has ``is_label=True`` rows become ``{'xs': {...}, 'ys': {...}}``.

    Args:
        source: path of the file (``file://`` prefix accepted).
        has_header: the first line holds the column names.
        column_names: names to use (required when has_header is False).
        column_configs: per column ``{'required', 'dtype', 'default', 'is_label'}``.
        configured_columns_only: keep only the columns named in column_configs.
        delimiter: field separator, one character.
        delim_whitespace: split fields on runs of whitespace instead of ``delimiter``.

    Example:
        >>> ds = tf.data.csv('houses.csv', column_configs={'price': {'is_label': True}})
        >>> ds.take(1).to_array()
        [{'xs': {'rooms': 3.0, 'area': 70.0}, 'ys': {'price': 250.0}}]
    """
    return CSVDataset(
        source,
        has_header=has_header,
        column_names=column_names,
        column_configs=column_configs,
        configured_columns_only=configured_columns_only,
        delimiter=delimiter,
        delim_whitespace=delim_whitespace,
    )


install_aliases(Dataset)  # forEachAsync, toArray, ...
install_aliases(CSVDataset)  # columnNames
