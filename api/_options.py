"""TF.js option dicts and camelCase aliases: the one normaliser and the one alias table.

TF.js code passes options as one object (``tf.layers.dense({inputShape: [784], units: 32})``)
and names functions in camelCase (``tf.matMul``). clflow's functions take snake_case keyword
arguments; this module lets both spellings reach them, so the TF.js guide ports line by line.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# camelCase -> snake_case pairs that the mechanical conversion gets wrong (or that TF.js spells
# irregularly). Everything else is converted by rule, so only exceptions belong here.
ALIASES: dict[str, str] = {
    "leCunNormal": "lecun_normal",
    "leCunUniform": "lecun_uniform",
    "inputDType": "input_dtype",
    "dataSync": "data_sync",
    "arraySync": "array_sync",
    "l1l2": "l1l2",
    "relu6": "relu6",
    "conv1d": "conv1d",
    "conv2d": "conv2d",
    "conv2dTranspose": "conv2d_transpose",
    "maxPooling2d": "max_pooling2d",
    "averagePooling2d": "average_pooling2d",
    "globalAveragePooling2d": "global_average_pooling2d",
    "fitDataset": "fit_dataset",
    "evaluateDataset": "evaluate_dataset",
    "matMul": "mat_mul",
    "oneHot": "one_hot",
    "argMax": "arg_max",
    "argMin": "arg_min",
    "forEachAsync": "for_each_async",
    "toArray": "to_array",
}
_SNAKE_TO_CAMEL = {snake: camel for camel, snake in ALIASES.items()}

_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def register_alias(camel: str, snake: str) -> None:
    """Record an irregular camelCase <-> snake_case pair in the one alias table."""
    ALIASES[camel] = snake
    _SNAKE_TO_CAMEL[snake] = camel


def to_snake(name: str) -> str:
    """TF.js camelCase to snake_case (``'batchInputShape'`` -> ``'batch_input_shape'``)."""
    if name in ALIASES:
        return ALIASES[name]
    if "_" in name or name.islower():
        return name
    return _SPLIT.sub("_", name).lower()


def to_camel(name: str) -> str:
    """Convert a snake_case name to TF.js camelCase (``'fit_dataset'`` -> ``'fitDataset'``)."""
    if name in _SNAKE_TO_CAMEL:
        return _SNAKE_TO_CAMEL[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _did_you_mean(key: str, valid: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest valid name, or ``''``."""
    valid = list(valid)
    by_lower = {v.lower(): v for v in valid}
    match = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean '{by_lower[match[0]]}'?" if match else ""


def unknown_option_error(fn_name: str, key: str, valid: Iterable[str]) -> TypeError:
    """Build the TypeError for an unknown option, spelled the way the caller spelled it."""
    valid = sorted(valid)
    camel = key != to_snake(key)
    shown = [to_camel(v) for v in valid] if camel else valid
    hint = _did_you_mean(key, shown)
    return TypeError(
        f"{fn_name}() got an unknown option '{key}'{hint} Valid options: {', '.join(shown)}."
    )


def normalize(
    fn_name: str,
    options: Mapping[str, Any] | None,
    kwargs: Mapping[str, Any],
    allowed: Iterable[str],
    *,
    open_keys: bool = False,
) -> dict[str, Any]:
    """Merge a TF.js option dict and Python kwargs into one snake_case dict.

    Args:
        fn_name: name shown in error messages.
        options: the TF.js option object (camelCase or snake_case keys), or None.
        kwargs: Python keyword arguments (either spelling is accepted).
        allowed: the snake_case option names the function understands.
        open_keys: accept keys outside ``allowed`` (the function takes ``**kwargs``).

    Returns:
        dict of snake_case name -> value.

    Example:
        >>> normalize('dense', {'inputShape': [784]}, {'units': 32}, ['units', 'input_shape'])
        {'input_shape': [784], 'units': 32}
    """
    allowed = set(allowed)
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(
            f"{fn_name}() expected an options dict, got {type(options).__name__}: {options!r}"
        )
    out: dict[str, Any] = {}
    for source in (options or {}, kwargs):
        for key, value in source.items():
            if not isinstance(key, str):
                raise TypeError(f"{fn_name}() option names must be strings, got {key!r}")
            snake = to_snake(key)
            if snake not in allowed and not open_keys:
                raise unknown_option_error(fn_name, key, allowed)
            if snake in out:
                raise TypeError(f"{fn_name}() got option '{key}' twice (as '{snake}')")
            out[snake] = value
    return out


def tfjs_options(positional: int = 0, extra: Iterable[str] = ()) -> Callable[[F], F]:
    """Let a function take either Python kwargs or one TF.js option dict.

    A dict passed as the positional argument number ``positional`` (counting from 0, after
    ``self``) and being the last positional argument is read as the TF.js options object.
    Keys may be camelCase or snake_case; unknown keys raise TypeError with a did-you-mean.

    Args:
        positional: how many leading positional arguments are data, not options
            (``fit(x, y, {...})`` uses 2; ``dense({...})`` uses 0).
        extra: option names the function takes through ``**kwargs``; when given, other
            ``**kwargs`` names are rejected like unknown options.

    Example:
        >>> @tfjs_options()
        ... def dense(units=None, input_shape=None): return units, input_shape
        >>> dense({'units': 3, 'inputShape': [4]})
        (3, [4])
    """

    def wrap(func: F) -> F:
        sig = inspect.signature(func)
        params = list(sig.parameters.values())
        offset = 1 if params and params[0].name in ("self", "cls") else 0
        names = [
            p.name for p in params[offset:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        names += [n for n in extra if n not in names]
        open_keys = any(p.kind is p.VAR_KEYWORD for p in params) and not extra
        index = offset + positional
        fn_name = func.__qualname__.replace(".<locals>", "")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            options = None
            if len(args) == index + 1 and isinstance(args[index], Mapping):
                options, args = args[index], args[:index]
            if options is None and all(k in names for k in kwargs):
                return func(*args, **kwargs)
            merged = normalize(
                fn_name, options, kwargs, names[len(args) - offset :], open_keys=open_keys
            )
            taken = set(names[: len(args) - offset])
            clash = taken.intersection(merged)
            if clash:
                raise TypeError(f"{fn_name}() got multiple values for {sorted(clash)}")
            return func(*args, **merged)

        wrapper.__tfjs_options__ = names  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return wrap


def install_aliases(target: Any, names: Iterable[str] | None = None) -> list[str]:
    """Add camelCase aliases for snake_case attributes of a module, namespace or class.

    On a class the alias looks the snake_case name up on each call, so subclasses that
    override ``count_params`` are reached through ``countParams`` too.

    Args:
        target: a module, class or namespace object.
        names: the snake_case names to alias; by default every public lowercase name with an
            underscore.

    Returns:
        the camelCase names that were added.

    Example:
        >>> ns = types.SimpleNamespace(mat_mul=lambda a, b: a @ b)
        >>> install_aliases(ns)
        ['matMul']
    """
    is_class = isinstance(target, type)
    if names is None:
        pool = _class_attrs(target) if is_class else vars(target)
        names = [
            n for n in pool if "_" in n.strip("_") and not n.startswith("_") and n == n.lower()
        ]
    added = []
    for snake in names:
        camel = to_camel(snake)
        if camel == snake:
            continue
        if is_class:
            setattr(target, camel, _forwarder(snake, inspect.getattr_static(target, snake)))
        else:
            setattr(target, camel, getattr(target, snake))
        added.append(camel)
    return added


def _forwarder(snake: str, attr: Any) -> Any:
    """A class attribute that forwards to ``snake`` at call time (method or property)."""
    if isinstance(attr, property):
        setter = None
        if attr.fset is not None:

            def setter(self: Any, value: Any) -> None:
                setattr(self, snake, value)

        return property(lambda self: getattr(self, snake), setter, doc=f"Alias of ``{snake}``.")
    if isinstance(attr, staticmethod | classmethod) or not callable(attr):
        return attr

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, snake)(*args, **kwargs)

    method.__name__ = to_camel(snake)
    method.__doc__ = f"Alias of ``{snake}``."
    return method


def _class_attrs(cls: type) -> dict[str, Any]:
    """All attributes a class defines or inherits from its clflow bases (not from object)."""
    attrs: dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:-1]):
        attrs.update(vars(klass))
    return attrs


def _fold(identifier: str) -> str:
    """One key for all spellings (``'glorot_normal'`` -> ``'glorotnormal'``)."""
    return identifier.replace("_", "").lower()


class Registry:
    """String identifiers: TF.js, Keras and class-name spellings of one name give one value."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._by_key: dict[str, Any] = {}
        self._shown: list[str] = []

    def add(self, value: Any, *names: str) -> Any:
        """Register ``value`` under every spelling in ``names`` (the first is shown in errors)."""
        self._shown.append(names[0])
        self.alias(value, *names)
        return value

    def alias(self, value: Any, *names: str) -> None:
        """Register extra spellings that error messages do not list."""
        for name in names:
            self._by_key[_fold(name)] = value

    def __contains__(self, identifier: object) -> bool:
        return isinstance(identifier, str) and _fold(identifier) in self._by_key

    def get(self, identifier: str) -> Any:
        """Look up an identifier; unknown ones raise ValueError naming the valid choices."""
        if not isinstance(identifier, str):
            raise TypeError(f"{self.kind} identifier must be a string, got {identifier!r}")
        if _fold(identifier) in self._by_key:
            return self._by_key[_fold(identifier)]
        hint = _did_you_mean(identifier, self._shown).replace("; did", " Did")
        raise ValueError(
            f"Unknown {self.kind}: {identifier}.{hint} "
            f"Valid {self.kind} names: {', '.join(self._shown)}."
        )

    def names(self) -> list[str]:
        """The registered identifiers in their display spelling."""
        return list(self._shown)
