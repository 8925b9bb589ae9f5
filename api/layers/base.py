"""Layer and LayerVariable: TF.js naming, weight creation, shape checks and configs."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import clflow as tf
import numpy as np

from .. import initializers as initializers_mod
from .._options import to_snake

Shape = list[int | None]

# Process-wide counters, as TF.js's getUid(): the first Dense is dense_Dense1 in any model.
_UIDS: dict[str, int] = {}
# TF.js's getUniqueTensorName(): a second 'dense_Dense1/kernel' becomes 'dense_Dense1/kernel_1'.
_TENSOR_NAMES: dict[str, int] = {}
_VALID_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9._/]*$")


def get_uid(prefix: str = "") -> str:
    """``prefix`` followed by how many times it has been asked for (``'Dense'`` -> ``'Dense1'``)."""
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return f"{prefix}{_UIDS[prefix]}"


def reset_name_counters() -> None:
    """Forget every layer, model and weight name handed out so far (a fresh TF.js session)."""
    _UIDS.clear()
    _TENSOR_NAMES.clear()


def _unique_tensor_name(scoped: str) -> str:
    """TF.js's unique variable naming: suffix ``_1``, ``_2`` ... on collisions."""
    if not _VALID_NAME.match(scoped):
        raise ValueError(f"Not a valid tensor name: '{scoped}'")
    index = _TENSOR_NAMES.get(scoped, 0)
    _TENSOR_NAMES[scoped] = index + 1
    if index == 0:
        return scoped
    result = f"{scoped}_{index}"
    _TENSOR_NAMES[result] = 1
    return result


def shape_str(shape: Any) -> str:
    """Shapes as TF.js's JSON.stringify prints them: ``[null,784]``."""
    return json.dumps(shape, separators=(",", ":"))


class LayerVariable:
    """A layer weight: TF.js's LayerVariable around a ``tf.variable``.

    Attributes:
        name: unique name such as ``dense_Dense1/kernel``.
        original_name: the name before de-duplication (what model.json stores).
        shape: list of ints. dtype: 'float32' or 'int32'. trainable: bool.
        val: the underlying ``tf.variable`` (``w.val.assign(...)`` as in the guide).
    """

    def __init__(
        self,
        value: Any,
        dtype: str = "float32",
        name: str = "Variable",
        trainable: bool = True,
        constraint: Any = None,
    ) -> None:
        self.dtype = dtype or "float32"
        self.shape = list(value.shape)
        self.original_name = name
        self.name = _unique_tensor_name(name)
        self._trainable = trainable
        self.constraint = constraint
        try:
            self.val = tf.variable(value, trainable=trainable, name=self.name, dtype=self.dtype)
        except ValueError:
            # The engine's variable names are unique too; after reset_name_counters() a live
            # variable from an earlier model can hold this name, so let the engine pick one.
            self.val = tf.variable(value, trainable=trainable, dtype=self.dtype)

    @property
    def trainable(self) -> bool:
        """Whether optimizers update this weight."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        if hasattr(self.val, "trainable"):
            try:
                self.val.trainable = bool(value)
            except AttributeError:  # the engine's flag may be read-only
                pass

    @property
    def originalName(self) -> str:  # noqa: N802 - TF.js spelling of original_name
        """Alias of ``original_name``."""
        return self.original_name

    def read(self) -> Any:
        """The current value (the variable itself, as TF.js)."""
        return self.val

    def write(self, value: Any) -> LayerVariable:
        """Assign a new value (same shape), then apply the weight's constraint."""
        value = _as_tensor(value, self.dtype)
        if list(value.shape) != self.shape:
            raise ValueError(
                f"Cannot write a value of shape {list(value.shape)} into weight '{self.name}' "
                f"of shape {self.shape}"
            )
        self.val.assign(value)
        if self.constraint is not None:
            self.val.assign(self.constraint(self.val))
        return self

    def numpy(self) -> np.ndarray:
        """The current value as a numpy array."""
        return self.val.numpy()

    def dispose(self) -> None:
        """Release the variable's device memory."""
        self.val.dispose()

    def __repr__(self) -> str:
        return f"LayerVariable(name={self.name!r}, shape={self.shape}, dtype={self.dtype!r})"


def _as_tensor(value: Any, dtype: str = "float32") -> Any:
    """Accept a clflow Tensor, a numpy array or nested lists."""
    if hasattr(value, "numpy") and hasattr(value, "rank"):
        return value
    arr = np.asarray(value, dtype=dtype)
    return tf.tensor(arr, list(arr.shape), dtype)


class Layer:
    """Base of all layers: naming, weights, input checks, serialisation.

    Subclasses set ``input_spec`` (dict with ``ndim``/``min_ndim``/``axes``), override
    ``build(input_shape)``, ``call(inputs, training)``, ``compute_output_shape`` and
    ``get_config``.
    """

    # Keys every layer's constructor understands (besides its own), in TF.js's snake_case.
    BASE_OPTIONS = (
        "name", "trainable", "input_shape", "batch_input_shape", "batch_size", "dtype",
        "input_dtype", "weights",
    )  # fmt: skip

    def __init__(
        self,
        name: str | None = None,
        trainable: bool = True,
        input_shape: Sequence[int | None] | None = None,
        batch_input_shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        dtype: str | None = None,
        input_dtype: str | None = None,
        weights: list[Any] | None = None,
    ) -> None:
        if not name:
            prefix = self.get_class_name()
            name = to_snake(prefix) + "_" + get_uid(prefix)
        self.name: str = name
        self._trainable = True if trainable is None else bool(trainable)
        self.batch_input_shape: Shape | None = None
        self.dtype: str | None = None
        if input_shape is not None or batch_input_shape is not None:
            if batch_input_shape is not None:
                self.batch_input_shape = _shape_list(batch_input_shape, "batch_input_shape")
            else:
                self.batch_input_shape = [batch_size] + _shape_list(input_shape, "input_shape")
            self.dtype = dtype or input_dtype or "float32"
        self.initial_weights = weights
        self.input_spec: dict[str, Any] | None = None
        self.built = False
        self._trainable_weights: list[LayerVariable] = []
        self._non_trainable_weights: list[LayerVariable] = []
        self._regularized: list[tuple[Any, LayerVariable]] = []
        self.activity_regularizer: Any = None
        self.activity_losses: list[Any] = []
        # Input/output shapes of each place this layer was connected (TF.js's inbound nodes).
        self._inbound: list[tuple[Shape, Shape]] = []

    # -- naming and flags ------------------------------------------------------------------

    @classmethod
    def get_class_name(cls) -> str:
        """The TF.js class name (``'Dense'``), used for names and model.json."""
        return cls.__dict__.get("class_name", cls.__name__)

    @property
    def trainable(self) -> bool:
        """Whether this layer's weights are updated by training."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for w in self._trainable_weights:
            w.trainable = bool(value)
        self._trainable = bool(value)

    # -- weights ---------------------------------------------------------------------------

    def add_weight(
        self,
        name: str,
        shape: Sequence[int],
        dtype: str | None = None,
        initializer: Any = None,
        regularizer: Any = None,
        trainable: bool = True,
        constraint: Any = None,
    ) -> LayerVariable:
        """Create a weight named ``<layer>/<name>`` from an initializer (default glorotUniform)."""
        dtype = dtype or "float32"
        init = initializers_mod.get(initializer or "glorotUniform")
        value = tf.tensor(init.generate(list(shape), dtype), list(shape), dtype)
        weight = LayerVariable(value, dtype, f"{self.name}/{name}", trainable, constraint)
        (self._trainable_weights if trainable else self._non_trainable_weights).append(weight)
        if regularizer is not None:
            self._regularized.append((regularizer, weight))
        return weight

    @property
    def trainable_weights(self) -> list[LayerVariable]:
        """Weights the optimizer updates (none when the layer is frozen)."""
        if not self._trainable:
            return []
        return [w for w in self._trainable_weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[LayerVariable]:
        """Weights the optimizer leaves alone."""
        if self._trainable:
            frozen = [w for w in self._trainable_weights if not w.trainable]
            return frozen + self._non_trainable_weights
        return self._trainable_weights + self._non_trainable_weights

    @property
    def weights(self) -> list[LayerVariable]:
        """Trainable then non-trainable weights, as TF.js orders them."""
        return self.trainable_weights + self.non_trainable_weights

    def count_params(self) -> int:
        """Number of scalars in this layer's weights."""
        if not self.built:
            raise RuntimeError(
                f"You tried to call count_params() on {self.name}, but the layer is not built "
                "yet. Build it first by calling build(batch_input_shape) or adding it to a model."
            )
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    def get_weights(self) -> list[Any]:
        """Snapshots of the weight values as tensors."""
        return [_snapshot(w) for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assign all weights at once; nothing changes if a count or shape is wrong."""
        assign_all(self.weights, weights, f'layer "{self.name}"')

    def regularization_losses(self) -> list[Any]:
        """Scalar penalty tensors of the weight regularizers (computed now)."""
        return [reg(w.read()) for reg, w in self._regularized]

    @property
    def losses(self) -> list[Any]:
        """Weight penalties plus activity penalties recorded by the last call."""
        return self.regularization_losses() + list(self.activity_losses)

    # -- shapes and calling ----------------------------------------------------------------

    def build(self, input_shape: Shape) -> None:
        """Create the weights for an input of ``input_shape`` (batch dimension first)."""
        self.built = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Output shape for an input shape (identity unless overridden)."""
        return list(input_shape)

    def call(self, inputs: Any, training: bool = False) -> Any:
        """The forward computation (override)."""
        return inputs

    def assert_input_compatible(self, shape: Shape) -> None:
        """Check a shape against ``input_spec`` with TF.js's messages."""
        spec = self.input_spec
        if not spec:
            return
        ndim = len(shape)
        prefix = f"Input 0 is incompatible with layer {self.name}"
        if spec.get("ndim") is not None and ndim != spec["ndim"]:
            raise ValueError(f"{prefix}: expected ndim={spec['ndim']}, found ndim={ndim}")
        if spec.get("min_ndim") is not None and ndim < spec["min_ndim"]:
            raise ValueError(f"{prefix}: expected min_ndim={spec['min_ndim']}, found ndim={ndim}.")
        for axis, value in (spec.get("axes") or {}).items():
            got = shape[axis] if -ndim <= axis < ndim else None
            if value is not None and got not in (value, None):
                raise ValueError(
                    f"{prefix}: expected axis {axis} of input shape to have value {value} "
                    f"but got shape {shape_str(shape)}."
                )

    def connect(self, input_shape: Shape) -> Shape:
        """Check, build if needed, and record a connection; returns the output shape."""
        input_shape = list(input_shape)
        self.assert_input_compatible(input_shape)
        if not self.built:
            self.build(input_shape)
            self.built = True
            if self.initial_weights is not None:
                self.set_weights(self.initial_weights)
                self.initial_weights = None
        output_shape = self.compute_output_shape(input_shape)
        if any(d is not None and d < 0 for d in output_shape):
            raise ValueError(
                f"Negative dimension size caused by adding layer {self.name} with input shape "
                f"{shape_str(input_shape)}"
            )
        self._inbound.append((input_shape, list(output_shape)))
        return list(output_shape)

    def apply(self, inputs: Any, training: bool = False) -> Any:
        """Run the layer on a tensor (building it on first use), like TF.js's ``apply``."""
        if not (hasattr(inputs, "shape") and hasattr(inputs, "rank")):
            inputs = _as_tensor(inputs)
        shape = list(inputs.shape)
        self.assert_input_compatible(shape)
        if not self.built:
            self.build(shape)
            self.built = True
        self.activity_losses = []
        outputs = self.call(inputs, training=training)
        if self.activity_regularizer is not None:
            self.activity_losses.append(self.activity_regularizer(outputs))
        return outputs

    def __call__(self, inputs: Any, training: bool = False) -> Any:
        return self.apply(inputs, training=training)

    @property
    def input_shape(self) -> Shape:
        """Input shape of the layer's (single) connection."""
        return self._connection_shape(0, "input")

    @property
    def output_shape(self) -> Shape:
        """Output shape of the layer's (single) connection."""
        return self._connection_shape(1, "output")

    def _connection_shape(self, which: int, word: str) -> Shape:
        if not self._inbound:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no defined {word} shape."
            )
        shapes = {shape_str(c[which]) for c in self._inbound}
        if len(shapes) > 1:
            raise AttributeError(
                f'The layer "{self.name}" has multiple inbound nodes with different {word} '
                "shapes. Hence the notion of a single shape is ill-defined for the layer."
            )
        return list(self._inbound[0][which])

    # -- serialisation ---------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """TF.js's base config: name, trainable, and the input shape of a first layer."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        if self.dtype is not None:
            config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer from its model.json config (snake_case or camelCase keys)."""
        return cls(**{to_snake(k): v for k, v in config.items()})

    def __repr__(self) -> str:
        return f"<{self.get_class_name()} name={self.name!r} built={self.built}>"


def _shape_list(shape: Any, what: str) -> Shape:
    """Validate a user-given shape: a list of positive ints (or None)."""
    if isinstance(shape, int):
        shape = [shape]
    try:
        out = [None if d is None else int(d) for d in shape]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a list of ints, got {shape!r}") from None
    if any(d is not None and d <= 0 for d in out):
        raise ValueError(f"{what} must contain positive ints, got {shape!r}")
    return out


def _snapshot(weight: LayerVariable) -> Any:
    """A tensor holding the weight's current value, unaffected by later assignments."""
    if hasattr(tf, "clone"):
        return tf.clone(weight.read())  # binds the variable's current buffer, no host copy
    arr = np.array(weight.read().numpy(), copy=True)
    return tf.tensor(arr, list(arr.shape), weight.dtype)


def assign_all(params: Sequence[LayerVariable], values: Sequence[Any], where: str) -> None:
    """Validate every (weight, value) pair, then assign them all (no partial update)."""
    values = list(values)
    if len(values) != len(params):
        raise ValueError(
            f"You called set_weights(weights) on {where} with a weight list of length "
            f"{len(values)}, but it was expecting {len(params)} weights "
            f"({', '.join(p.name for p in params) or 'none'})."
        )
    tensors = []
    for p, v in zip(params, values, strict=True):
        t = _as_tensor(v, p.dtype)
        if list(t.shape) != p.shape:
            have = ",".join(map(str, p.shape))
            got = ",".join(map(str, t.shape))
            raise ValueError(
                f"Layer weight shape {have} not compatible with provided weight shape {got} "
                f"(weight {p.name})."
            )
        tensors.append(t)
    for p, t in zip(params, tensors, strict=True):
        p.write(t)


__all__ = [
    "Layer",
    "LayerVariable",
    "assign_all",
    "get_uid",
    "reset_name_counters",
    "shape_str",
]
