"""Weight initializers with TF.js's names, defaults and serialisation (``tf.initializers``).

Values are drawn on the host with numpy (seeded ``default_rng`` when a seed is given) and
uploaded once as float32: initialisation runs once per weight, so it needs no kernel.
"""

from __future__ import annotations

import inspect
import math
import sys
from typing import Any

import clflow as tf
import numpy as np

from ._options import Registry, install_aliases, tfjs_options, to_camel, to_snake

Shape = list[int] | tuple[int, ...]


def compute_fans(shape: Shape) -> tuple[float, float]:
    """TF.js's fan_in/fan_out: [in, out] for 2-D, receptive field x channels (last) for 3-5-D."""
    shape = list(shape)
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    if len(shape) in (3, 4, 5):
        receptive = float(np.prod(shape[:-2]))
        return shape[-2] * receptive, shape[-1] * receptive
    side = math.sqrt(float(np.prod(shape)))
    return side, side


def _truncated_normal(rng: np.random.Generator, shape: Shape, mean: float, stddev: float):
    """Normal samples with those beyond two standard deviations redrawn (as TF.js does)."""
    out = rng.standard_normal(size=tuple(shape))
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(out) > 2.0
    return out * stddev + mean


class Initializer:
    """Base class: ``init(shape, dtype)`` returns a tensor, ``generate`` a numpy array."""

    class_name = "Initializer"

    def generate(self, shape: Shape, dtype: str = "float32") -> np.ndarray:
        """Return the initial values as a numpy array of ``dtype``."""
        raise NotImplementedError

    def __call__(self, shape: Shape, dtype: str = "float32") -> Any:
        return tf.tensor(self.generate(list(shape), dtype), list(shape), dtype)

    apply = __call__

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, snake_case keys (TF.js config after its pythonic conversion)."""
        return {}

    def get_class_name(self) -> str:
        """Class name written in model.json."""
        return self.class_name

    def _rng(self) -> np.random.Generator:
        seed = getattr(self, "seed", None)
        return np.random.default_rng(seed)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros."""

    class_name = "Zeros"

    def generate(self, shape: Shape, dtype: str = "float32") -> np.ndarray:
        return np.zeros(shape, dtype=dtype)


class Ones(Initializer):
    """All ones."""

    class_name = "Ones"

    def generate(self, shape: Shape, dtype: str = "float32") -> np.ndarray:
        return np.ones(shape, dtype=dtype)


class Constant(Initializer):
    """Every element equal to ``value``."""

    class_name = "Constant"

    def __init__(self, value: float) -> None:
        self.value = value

    def generate(self, shape: Shape, dtype: str = "float32") -> np.ndarray:
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal draw with ``mean`` and ``stddev`` (TF.js defaults 0 and 0.05)."""

    class_name = "RandomNormal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def generate(self, shape: Shape, dtype: str = "float32") -> np.ndarray:
        return self._rng().normal(self.mean, self.stddev, size=tuple(shape)).astype(dtype)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform draw in [minval, maxval) (TF.js defaults -0.05 and 0.05)."""

    class_name = "RandomUniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def generate(self, shape: Shape, dtype: str = "float32") -> np.ndarray:
        return self._rng().uniform(self.minval, self.maxval, size=tuple(shape)).astype(dtype)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal draw redrawn beyond two standard deviations."""

    class_name = "TruncatedNormal"

    def generate(self, shape: Shape, dtype: str = "float32") -> np.ndarray:
        return _truncated_normal(self._rng(), shape, self.mean, self.stddev).astype(dtype)


class VarianceScaling(Initializer):
    """Scale-aware draw: stddev (or limit) from ``scale / fan`` like TF.js.

    ``distribution='normal'`` is a truncated normal with stddev ``sqrt(scale / fan)`` (TF.js does
    not correct for the truncation); ``'uniform'`` draws in ``+-sqrt(3 * scale / fan)``.
    """

    class_name = "VarianceScaling"
    _MODES = ("fanIn", "fanOut", "fanAvg")
    _DISTRIBUTIONS = ("normal", "uniform", "truncatedNormal")

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fanIn",
        distribution: str = "normal",
        seed: int | None = None,
    ) -> None:
        if scale < 0:
            raise ValueError(f"scale must be a positive float, got {scale}")
        mode, distribution = to_camel(mode), to_camel(distribution)
        if mode not in self._MODES:
            raise ValueError(f"mode must be one of {list(self._MODES)}, got {mode!r}")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"distribution must be one of {list(self._DISTRIBUTIONS)}, got {distribution!r}"
            )
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def stddev_or_limit(self, shape: Shape) -> float:
        """The normal stddev, or the uniform limit, this shape gets."""
        fan_in, fan_out = compute_fans(shape)
        fan = {"fanIn": fan_in, "fanOut": fan_out, "fanAvg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, fan)
        return math.sqrt(3 * scale) if self.distribution == "uniform" else math.sqrt(scale)

    def generate(self, shape: Shape, dtype: str = "float32") -> np.ndarray:
        s = self.stddev_or_limit(shape)
        if self.distribution == "uniform":
            values = self._rng().uniform(-s, s, size=tuple(shape))
        else:
            values = _truncated_normal(self._rng(), shape, 0.0, s)
        return values.astype(dtype)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": to_snake(self.mode),
            "distribution": to_snake(self.distribution),
            "seed": self.seed,
        }


def _preset(name: str, scale: float, mode: str, distribution: str) -> type[VarianceScaling]:
    """A VarianceScaling preset (serialised as VarianceScaling, as TF.js does)."""

    def __init__(self: VarianceScaling, seed: int | None = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    return type(name, (VarianceScaling,), {"__init__": __init__, "__doc__": f"{name} preset."})


GlorotNormal = _preset("GlorotNormal", 1.0, "fanAvg", "normal")
GlorotUniform = _preset("GlorotUniform", 1.0, "fanAvg", "uniform")
HeNormal = _preset("HeNormal", 2.0, "fanIn", "normal")
HeUniform = _preset("HeUniform", 2.0, "fanIn", "uniform")
LeCunNormal = _preset("LeCunNormal", 1.0, "fanIn", "normal")
LeCunUniform = _preset("LeCunUniform", 1.0, "fanIn", "uniform")


class Orthogonal(Initializer):
    """Random orthogonal matrix (QR of a normal draw, signs fixed), times ``gain``."""

    class_name = "Orthogonal"

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain, self.seed = gain, seed

    def generate(self, shape: Shape, dtype: str = "float32") -> np.ndarray:
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2, got {shape}")
        rows, cols = int(np.prod(shape[:-1])), int(shape[-1])
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (square 2-D shapes only)."""

    class_name = "Identity"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def generate(self, shape: Shape, dtype: str = "float32") -> np.ndarray:
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"Identity initializer needs a square 2-D shape, got {list(shape)}")
        return (self.gain * np.eye(shape[0])).astype(dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


_REGISTRY = Registry("initializer")
_CLASSES: dict[str, type[Initializer]] = {}
for _cls, _ident in [
    (Zeros, "zeros"),
    (Ones, "ones"),
    (Constant, "constant"),
    (RandomNormal, "randomNormal"),
    (RandomUniform, "randomUniform"),
    (TruncatedNormal, "truncatedNormal"),
    (VarianceScaling, "varianceScaling"),
    (GlorotNormal, "glorotNormal"),
    (GlorotUniform, "glorotUniform"),
    (HeNormal, "heNormal"),
    (HeUniform, "heUniform"),
    (LeCunNormal, "leCunNormal"),
    (LeCunUniform, "leCunUniform"),
    (Orthogonal, "orthogonal"),
    (Identity, "identity"),
]:
    _REGISTRY.add(_cls, _ident, to_snake(_ident), _cls.__name__)
    _CLASSES[_cls.__name__] = _cls
_REGISTRY.alias(LeCunNormal, "lecunNormal")
_REGISTRY.alias(LeCunUniform, "lecunUniform")


def get(identifier: str | dict | Initializer | None) -> Initializer | None:
    """Resolve a string, a ``{class_name, config}`` dict or an Initializer to an Initializer."""
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    cls = _REGISTRY.get(identifier)
    if cls is Constant:
        raise ValueError("The 'constant' initializer needs a value: use constant(value=...)")
    return cls()


def serialize(init: Initializer | None) -> dict[str, Any] | None:
    """``{'class_name': ..., 'config': {...}}`` as written in model.json."""
    if init is None:
        return None
    return {"class_name": init.get_class_name(), "config": init.get_config()}


def deserialize(config: dict[str, Any]) -> Initializer:
    """Rebuild an initializer from its model.json form (snake_case or camelCase keys)."""
    name = config.get("class_name", config.get("className"))
    if name not in _CLASSES:
        _REGISTRY.get(str(name))  # raises the did-you-mean error for unknown names
        return get(str(name))  # type: ignore[return-value]
    kwargs = {to_snake(k): v for k, v in (config.get("config") or {}).items()}
    return _CLASSES[name](**kwargs)


def _make(cls: type[Initializer]):
    """Build the ``tf.initializers.xxx(options)`` constructor for a class with checked options."""
    init = cls.__init__
    params = (
        list(inspect.signature(init).parameters.values())[1:] if init is not object.__init__ else []
    )

    def make(*args: Any, **kwargs: Any) -> Initializer:
        return cls(*args, **kwargs)

    make.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    make.__name__ = make.__qualname__ = to_snake(cls.__name__).replace("le_cun", "lecun")
    make.__doc__ = f"Create a {cls.__name__} initializer. {cls.__doc__}"
    return tfjs_options()(make)


zeros = _make(Zeros)
ones = _make(Ones)
constant = _make(Constant)
random_normal = _make(RandomNormal)
random_uniform = _make(RandomUniform)
truncated_normal = _make(TruncatedNormal)
variance_scaling = _make(VarianceScaling)
glorot_normal = _make(GlorotNormal)
glorot_uniform = _make(GlorotUniform)
he_normal = _make(HeNormal)
he_uniform = _make(HeUniform)
lecun_normal = _make(LeCunNormal)
lecun_uniform = _make(LeCunUniform)
orthogonal = _make(Orthogonal)
identity = _make(Identity)


install_aliases(
    sys.modules[__name__],
    [
        "random_normal",
        "random_uniform",
        "truncated_normal",
        "variance_scaling",
        "glorot_normal",
        "glorot_uniform",
        "he_normal",
        "he_uniform",
        "lecun_normal",
        "lecun_uniform",
    ],
)
