"""Core layers: Dense, Activation, Dropout, Flatten, Reshape (TF.js names, configs, defaults)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import clflow as tf
import numpy as np

from .. import activations, constraints, initializers, regularizers
from .._options import tfjs_options
from .base import Layer, Shape, shape_str

BASE = Layer.BASE_OPTIONS


class Dense(Layer):
    """Fully connected layer: ``activation(x @ kernel + bias)``.

    Args:
        units: output size (positive int).
        activation: name or callable (default linear).
        use_bias: add a bias vector (default True).
        kernel_initializer: default ``'glorotNormal'`` as in TF.js.
        bias_initializer: default ``'zeros'``.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties (optional).
        kernel_constraint, bias_constraint: projections after updates (optional).
        input_dim: shorthand for ``input_shape=[input_dim]`` on a first layer.
        plus the base options name, trainable, input_shape, batch_input_shape, ...

    Example:
        >>> layer = tf.layers.dense({'inputShape': [784], 'units': 32, 'activation': 'relu'})
        >>> model = tf.sequential({'layers': [layer]})
        >>> [w.name for w in model.weights]   # ['dense_Dense1/kernel', 'dense_Dense1/bias']
    """

    @tfjs_options(extra=BASE)
    def __init__(
        self,
        units: int | None = None,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = None,
        bias_initializer: Any = None,
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        input_dim: int | None = None,
        **base: Any,
    ) -> None:
        super().__init__(**base)
        if base.get("batch_input_shape") is None and base.get("input_shape") is None:
            if input_dim is not None:
                self.batch_input_shape = [base.get("batch_size"), int(input_dim)]
        if not isinstance(units, int | np.integer) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Expected units to be a positive integer, but got {units!r}.")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = True if use_bias is None else bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer or "glorotNormal")
        self.bias_initializer = initializers.get(bias_initializer or "zeros")
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel = None
        self.bias = None
        self.input_spec = {"min_ndim": 2}

    def build(self, input_shape: Shape) -> None:
        last = input_shape[-1]
        if last is None:
            raise ValueError(
                f"Dense layer {self.name} needs a known last input dimension, got "
                f"{shape_str(input_shape)}"
            )
        if self.kernel is None:
            self.kernel = self.add_weight(
                "kernel", [last, self.units], None, self.kernel_initializer,
                self.kernel_regularizer, True, self.kernel_constraint,
            )  # fmt: skip
            if self.use_bias:
                self.bias = self.add_weight(
                    "bias", [self.units], None, self.bias_initializer,
                    self.bias_regularizer, True, self.bias_constraint,
                )  # fmt: skip
        self.input_spec = {"min_ndim": 2, "axes": {-1: last}}
        self.built = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return list(input_shape[:-1]) + [self.units]

    def call(self, inputs: Any, training: bool = False) -> Any:
        # matmul, then bias add, then activation: the shape the compiler fuses into one kernel.
        shape = list(inputs.shape)
        x = inputs if len(shape) == 2 else tf.reshape(inputs, [-1, shape[-1]])
        y = tf.mat_mul(x, self.kernel.read())
        if self.bias is not None:
            y = tf.add(y, self.bias.read())
        if len(shape) != 2:
            y = tf.reshape(y, shape[:-1] + [self.units])
        return self.activation(y)

    def get_config(self) -> dict[str, Any]:
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
        config.update(super().get_config())
        return config


class Activation(Layer):
    """Apply an activation function elementwise.

    Args:
        activation: name (``'relu'``, ``'softmax'`` ...) or callable.

    Example:
        >>> tf.layers.activation({'activation': 'relu'}).apply(tf.tensor([[-1.0, 2.0]]))
    """

    @tfjs_options(extra=BASE)
    def __init__(self, activation: Any = None, **base: Any) -> None:
        super().__init__(**base)
        self.activation = activations.get(activation)

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.activation(inputs)

    def get_config(self) -> dict[str, Any]:
        config = {"activation": activations.serialize(self.activation)}
        config.update(super().get_config())
        return config


class Dropout(Layer):
    """Zero a fraction ``rate`` of inputs during training, scaling the rest by 1 / (1 - rate).

    Only active when called with ``training=True`` (the training loop does so).

    Args:
        rate: fraction to drop, clipped to [0, 1].
        noise_shape: shape of the keep mask (None entries take the input's size).
        seed: random seed for the mask.

    Example:
        >>> drop = tf.layers.dropout({'rate': 0.5, 'seed': 1})
        >>> drop.apply(tf.ones([2, 4]), training=True)   # zeros and 2.0s
    """

    @tfjs_options(extra=BASE)
    def __init__(
        self,
        rate: float | None = None,
        noise_shape: Sequence[int | None] | None = None,
        seed: int | None = None,
        **base: Any,
    ) -> None:
        super().__init__(**base)
        if rate is None:
            raise ValueError("Dropout: 'rate' is required (a float in [0, 1])")
        self.rate = max(min(float(rate), 1.0), 0.0)
        self.noise_shape = None if noise_shape is None else list(noise_shape)
        self.seed = seed

    def call(self, inputs: Any, training: bool = False) -> Any:
        if not training or not 0 < self.rate < 1:
            return inputs
        shape = list(inputs.shape)
        mask_shape = shape
        if self.noise_shape is not None:
            mask_shape = [
                s if n is None else n for n, s in zip(self.noise_shape, shape, strict=False)
            ]
        uniform = tf.random_uniform(mask_shape, 0.0, 1.0, "float32", self.seed)
        keep = tf.cast(tf.greater_equal(uniform, self.rate), "float32")
        return tf.mul(inputs, tf.mul(keep, 1.0 / (1.0 - self.rate)))

    def get_config(self) -> dict[str, Any]:
        config = {"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
        config.update(super().get_config())
        return config


class Flatten(Layer):
    """Flatten every dimension but the batch one: ``[b, d1, d2] -> [b, d1 * d2]``.

    Example:
        >>> tf.layers.flatten().apply(tf.ones([2, 3, 4])).shape   # [2, 12]
    """

    @tfjs_options(extra=BASE)
    def __init__(self, data_format: str | None = None, **base: Any) -> None:
        super().__init__(**base)
        self.data_format = data_format
        self.input_spec = {"min_ndim": 3}

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        if any(d is None for d in rest):
            raise ValueError(
                f'The shape of the input to "Flatten" is not fully defined (got '
                f'{shape_str(rest)}). Make sure to pass a complete "input_shape" or '
                '"batch_input_shape" argument to the first layer in your model.'
            )
        return [input_shape[0], int(np.prod(rest))]

    def call(self, inputs: Any, training: bool = False) -> Any:
        shape = list(inputs.shape)
        if self.data_format in ("channelsFirst", "channels_first") and len(shape) > 2:
            inputs = tf.transpose(inputs, [0, *range(2, len(shape)), 1])
        return tf.reshape(inputs, [shape[0], int(np.prod(shape[1:]))])

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if self.data_format is not None:
            config["data_format"] = self.data_format
        config.update(super().get_config())
        return config


class Reshape(Layer):
    """Reshape the non-batch dimensions to ``target_shape`` (one entry may be -1 or None).

    Example:
        >>> tf.layers.reshape({'targetShape': [2, -1]}).apply(tf.ones([5, 6])).shape  # [5, 2, 3]
    """

    @tfjs_options(extra=BASE)
    def __init__(self, target_shape: Sequence[int | None] | None = None, **base: Any) -> None:
        super().__init__(**base)
        if target_shape is None:
            raise ValueError("Reshape: 'target_shape' is required (a list of ints)")
        self.target_shape = [None if d is None or d < 0 else int(d) for d in target_shape]

    def _fix_unknown(self, input_shape: Shape) -> Shape:
        """Resolve the single unknown target dimension from the input size."""
        unknown = [i for i, d in enumerate(self.target_shape) if d is None]
        if len(unknown) > 1:
            raise ValueError(
                f"Reshape layer {self.name}: can only specify one unknown dimension, got "
                f"{shape_str(self.target_shape)}"
            )
        known = int(np.prod([d for d in self.target_shape if d is not None]))
        size = int(np.prod(input_shape))
        out = list(self.target_shape)
        if unknown:
            if known == 0 or size % known:
                raise ValueError(self._size_error(input_shape))
            out[unknown[0]] = size // known
        elif size != known:
            raise ValueError(self._size_error(input_shape))
        return out

    def _size_error(self, input_shape: Shape) -> str:
        return (
            f"Reshape layer {self.name}: total size of new array must be unchanged; cannot "
            f"reshape {shape_str(input_shape)} to {shape_str(self.target_shape)}"
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if any(d is None for d in input_shape[1:]):
            return [input_shape[0]] + list(self.target_shape)
        return [input_shape[0]] + self._fix_unknown(input_shape[1:])

    def call(self, inputs: Any, training: bool = False) -> Any:
        shape = list(inputs.shape)
        return tf.reshape(inputs, [shape[0]] + self._fix_unknown(shape[1:]))

    def get_config(self) -> dict[str, Any]:
        config = {"target_shape": list(self.target_shape)}
        config.update(super().get_config())
        return config


# The ``tf.layers.xxx(options)`` factories, as TF.js exposes them.
def dense(*args: Any, **kwargs: Any) -> Dense:
    """Create a Dense layer (see :class:`Dense`); accepts a TF.js options dict."""
    return Dense(*args, **kwargs)


def activation(*args: Any, **kwargs: Any) -> Activation:
    """Create an Activation layer (see :class:`Activation`)."""
    return Activation(*args, **kwargs)


def dropout(*args: Any, **kwargs: Any) -> Dropout:
    """Create a Dropout layer (see :class:`Dropout`)."""
    return Dropout(*args, **kwargs)


def flatten(*args: Any, **kwargs: Any) -> Flatten:
    """Create a Flatten layer (see :class:`Flatten`)."""
    return Flatten(*args, **kwargs)


def reshape(*args: Any, **kwargs: Any) -> Reshape:
    """Create a Reshape layer (see :class:`Reshape`)."""
    return Reshape(*args, **kwargs)


LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.get_class_name(): cls for cls in (Dense, Activation, Dropout, Flatten, Reshape)
}
