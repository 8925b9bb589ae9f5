"""Sequential / LayersModel structure: layers, weights, summary, get/set weights, save/load.

The training loop (compile, fit, evaluate, predict ...) lives in ``clflow.training``; the
methods here only forward to it, so this module stays about structure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._options import install_aliases, tfjs_options
from .layers.base import Layer, LayerVariable, assign_all, get_uid, shape_str
from .layers.layer_utils import print_summary

Shape = list[int | None]


class LayersModel:
    """A model made of layers. ``Sequential`` is the kind clflow builds and loads.

    Training methods forward to ``clflow.training`` (``compile``, ``fit``, ``fit_dataset``,
    ``evaluate``, ``evaluate_dataset``, ``predict``, ``predict_on_batch``, ``train_on_batch``).
    """

    class_name = "Model"

    def __init__(self, name: str | None = None) -> None:
        self.name = name or get_uid(self.class_name.lower() + "_")
        self._layers: list[Layer] = []
        self._trainable = True
        # Set by clflow.training.compile_model; kept here so save() can find them.
        self.optimizer: Any = None
        self.loss: Any = None
        self.metrics: Any = None
        self.is_compiled = False

    # -- structure -------------------------------------------------------------------------

    @property
    def layers(self) -> list[Layer]:
        """The model's layers, in order (a copy)."""
        return list(self._layers)

    @property
    def trainable(self) -> bool:
        """Whether training updates this model's weights."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for layer in self._layers:
            for w in layer._trainable_weights:
                w.trainable = bool(value)
        self._trainable = bool(value)

    def _unique_layers(self) -> list[Layer]:
        """Each layer once, even when shared."""
        seen: list[Layer] = []
        for layer in self._layers:
            if all(layer is not s for s in seen):
                seen.append(layer)
        return seen

    @property
    def trainable_weights(self) -> list[LayerVariable]:
        """Weights the optimizer updates, in layer order."""
        if not self._trainable:
            return []
        return [w for layer in self._unique_layers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[LayerVariable]:
        """Frozen weights, in layer order."""
        layers = self._unique_layers()
        if not self._trainable:
            return [w for layer in layers for w in layer.weights]
        return [w for layer in layers for w in layer.non_trainable_weights]

    @property
    def weights(self) -> list[LayerVariable]:
        """All weights, layer by layer (kernel then bias), as TF.js lists them."""
        return [w for layer in self._unique_layers() for w in layer.weights]

    def count_params(self) -> int:
        """Total number of scalars in the weights."""
        self._require_layers()
        return sum(layer.count_params() for layer in self._unique_layers())

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index.

        Args:
            name: the layer's name, e.g. ``'dense_Dense1'``.
            index: its position in ``layers``.

        Example:
            >>> model.get_layer('dense_Dense2').units
            10
        """
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index}, but model only has "
                    f"{len(self._layers)} layer(s)."
                )
            return self._layers[index]
        if name is None:
            raise ValueError("Provide either a layer name or a layer index to get_layer().")
        for layer in self._layers:
            if layer.name == name:
                return layer
        names = ", ".join(layer.name for layer in self._layers)
        raise ValueError(f"No such layer: {name}. The model's layers are: {names}.")

    def get_weights(self) -> list[Any]:
        """Snapshots of all weight values as tensors, in ``weights`` order."""
        return [w for layer in self._unique_layers() for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assign every weight from a list (tensors or arrays), all or nothing.

        Args:
            weights: one value per entry of ``model.weights``, with matching shapes.

        Example:
            >>> model.set_weights([w.numpy() * 0 for w in model.get_weights()])
        """
        self._require_layers()
        assign_all(self.weights, weights, f'model "{self.name}"')

    def _require_layers(self) -> None:
        if not self._layers:
            raise TypeError(
                f"{type(self).__name__} model cannot be built: model is empty. "
                "Add some layers first."
            )

    # -- forward pass ----------------------------------------------------------------------

    def call(self, inputs: Any, training: bool = False) -> Any:
        """Apply the layers in order, recording ops (nothing runs until a value is needed)."""
        raise NotImplementedError

    def apply(self, inputs: Any, training: bool = False) -> Any:
        """Same as ``call``: the model used as a function."""
        return self.call(inputs, training=training)

    __call__ = apply

    @property
    def losses(self) -> list[Any]:
        """Regularisation penalties: weight penalties now, activity penalties of the last call."""
        return [loss for layer in self._unique_layers() for loss in layer.losses]

    def regularization_loss(self) -> Any:
        """Sum of ``losses`` as one scalar tensor, or None when no layer is regularised."""
        losses = self.losses
        if not losses:
            return None
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total

    # -- summary ---------------------------------------------------------------------------

    def summary(
        self,
        line_length: int | None = None,
        positions: Sequence[float] | None = None,
        print_fn: Callable[[str], Any] | None = None,
    ) -> None:
        """Print TF.js's summary table, line by line.

        Args:
            line_length: total width (default 90).
            positions: right edge of each column, relative (<= 1) or absolute
                (default ``[0.32, 0.61, 0.89, 1]``).
            print_fn: called with each line (default ``print``).

        Example:
            >>> lines = []
            >>> model.summary(print_fn=lines.append)
        """
        self._require_layers()
        print_summary(self, line_length, positions, print_fn)

    # -- serialisation ---------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The model's Keras-JSON config (``{'name', 'layers': [...]}``)."""
        return {
            "name": self.name,
            "layers": [
                {"class_name": layer.get_class_name(), "config": layer.get_config()}
                for layer in self._layers
            ],
        }

    def to_json(self) -> dict[str, Any]:
        """The ``modelTopology`` object of model.json."""
        from . import model_io

        return model_io.model_topology(self)

    def dump_graph(self, **kwargs: Any) -> str:
        """Show what the compiler does to this model's train step (see ``tf.dump_graph``)."""
        from .dump import dump_graph

        return dump_graph(self, **kwargs)

    def save(self, path: str, include_optimizer: bool = False) -> dict[str, Any]:
        """Save in TensorFlow.js's layers-model format (model.json + weights.bin), atomically.

        Args:
            path: a directory, optionally prefixed ``file://`` (as TF.js's tfjs-node).
            include_optimizer: also store the training config and optimizer state.

        Example:
            >>> model.save('file://./my-model')
            >>> same = tf.load_layers_model('file://./my-model')
        """
        from . import model_io

        return model_io.save_model(self, path, include_optimizer=include_optimizer)

    # -- training: thin forwards to clflow.training ----------------------------------------

    def compile(self, *args: Any, **kwargs: Any) -> Any:
        """Configure optimizer, loss and metrics (see ``clflow.training.compile_model``)."""
        from . import training

        return training.compile_model(self, *args, **kwargs)

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        """Train on tensors (see ``clflow.training.fit``)."""
        from . import training

        return training.fit(self, *args, **kwargs)

    def fit_dataset(self, *args: Any, **kwargs: Any) -> Any:
        """Train on a ``tf.data`` dataset (see ``clflow.training.fit_dataset``)."""
        from . import training

        return training.fit_dataset(self, *args, **kwargs)

    def evaluate(self, *args: Any, **kwargs: Any) -> Any:
        """Loss and metrics on tensors (see ``clflow.training.evaluate``)."""
        from . import training

        return training.evaluate(self, *args, **kwargs)

    def evaluate_dataset(self, *args: Any, **kwargs: Any) -> Any:
        """Loss and metrics on a dataset (see ``clflow.training.evaluate_dataset``)."""
        from . import training

        return training.evaluate_dataset(self, *args, **kwargs)

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Outputs for inputs, batched (see ``clflow.training.predict``)."""
        from . import training

        return training.predict(self, *args, **kwargs)

    def predict_on_batch(self, *args: Any, **kwargs: Any) -> Any:
        """Outputs for one batch (see ``clflow.training.predict_on_batch``)."""
        from . import training

        return training.predict_on_batch(self, *args, **kwargs)

    def train_on_batch(self, *args: Any, **kwargs: Any) -> Any:
        """One optimizer step on one batch (see ``clflow.training.train_on_batch``)."""
        from . import training

        return training.train_on_batch(self, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} layers={len(self._layers)}>"


class Sequential(LayersModel):
    """A linear stack of layers (``tf.sequential``).

    Args:
        layers: layers to add in order; the first needs ``input_shape``,
            ``batch_input_shape`` or ``input_dim``.
        name: model name (default ``sequential_<n>``).

    Example:
        >>> model = tf.sequential({'layers': [
        ...     tf.layers.dense({'inputShape': [784], 'units': 32, 'activation': 'relu'}),
        ...     tf.layers.dense({'units': 10, 'activation': 'softmax'})]})
    """

    class_name = "Sequential"

    @tfjs_options()
    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None) -> None:
        super().__init__(name)
        self._output_shape: Shape | None = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        """Append a layer, checking that its expected input matches the current output.

        Args:
            layer: a Layer (the first one must declare its input shape).

        Example:
            >>> model = tf.sequential()
            >>> model.add(tf.layers.dense({'units': 4, 'inputShape': [3]}))
        """
        if isinstance(layer, LayersModel):
            raise TypeError("Adding a model to a Sequential model is not supported; add layers.")
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add() expects a Layer (e.g. tf.layers.dense(...)), got "
                f"{type(layer).__name__}: {layer!r}"
            )
        if self._output_shape is None:
            if layer.batch_input_shape is None:
                raise ValueError(
                    "The first layer in a Sequential model must get an `inputShape` or "
                    f"`batchInputShape` argument (layer {layer.name} has neither), e.g. "
                    "tf.layers.dense({'inputShape': [784], 'units': 32})."
                )
            input_shape = list(layer.batch_input_shape)
        else:
            input_shape = list(self._output_shape)
            declared = layer.batch_input_shape
            if declared is not None and not _compatible(declared, input_shape):
                raise ValueError(
                    f"Layer {layer.name} declares input shape {shape_str(declared)}, but the "
                    f"previous layer {self._layers[-1].name} outputs {shape_str(input_shape)}."
                )
        self._output_shape = layer.connect(input_shape)
        self._layers.append(layer)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._output_shape = self._layers[-1].output_shape if self._layers else None
        return layer

    @property
    def input_shape(self) -> Shape:
        """The model's input shape, batch dimension first (``[None, 784]``)."""
        self._require_layers()
        return list(self._layers[0].batch_input_shape or self._layers[0].input_shape)

    @property
    def output_shape(self) -> Shape:
        """The model's output shape (``[None, 10]``)."""
        self._require_layers()
        return list(self._output_shape or [])

    def call(self, inputs: Any, training: bool = False) -> Any:
        """Apply every layer in order to ``inputs`` (a tensor of shape ``[batch, ...]``)."""
        self._require_layers()
        shape = list(inputs.shape) if hasattr(inputs, "shape") else None
        expected = self.input_shape
        if shape is not None and not _compatible(expected, shape):
            raise ValueError(
                f"Error when checking : expected {self._layers[0].name}_input to have shape "
                f"{shape_str(expected)} but got array with shape {shape_str(shape)}."
            )
        x = inputs
        for layer in self._layers:
            x = layer.apply(x, training=training)
        return x

    @classmethod
    def from_config(cls, config: Any, layer_classes: dict[str, type[Layer]]) -> Sequential:
        """Build a Sequential from its Keras-JSON config (``{'name', 'layers'}`` or a list)."""
        if isinstance(config, list):
            name, layer_configs = None, config
        else:
            name, layer_configs = config.get("name"), config.get("layers", [])
        layers = []
        for i, entry in enumerate(layer_configs):
            class_name = entry.get("class_name", entry.get("className"))
            if class_name not in layer_classes:
                raise ValueError(
                    f"Unknown layer class '{class_name}' (layer {i} in the model config). "
                    f"Supported layer classes: {', '.join(sorted(layer_classes))}."
                )
            layers.append(layer_classes[class_name].from_config(entry.get("config") or {}))
        return cls(layers=layers, name=name)


def _compatible(expected: Sequence[int | None], got: Sequence[int | None]) -> bool:
    """Same rank and equal dims wherever both are known."""
    return len(expected) == len(got) and all(
        e is None or g is None or e == g for e, g in zip(expected, got, strict=True)
    )


@tfjs_options()
def sequential(layers: Sequence[Layer] | None = None, name: str | None = None) -> Sequential:
    """Create a Sequential model (``tf.sequential``).

    Args:
        layers: initial layers; the first needs ``input_shape`` (or ``batch_input_shape``).
        name: model name.

    Example:
        >>> model = tf.sequential({'layers': [tf.layers.dense({'inputShape': [4], 'units': 2})]})
        >>> model.count_params()
        10
    """
    return Sequential(layers=layers, name=name)


def load_layers_model(path: str, strict: bool = True) -> Sequential:
    """Load a model saved by ``model.save`` or by TensorFlow.js (``tf.loadLayersModel``).

    Args:
        path: directory holding model.json, or the model.json path (``file://`` optional).
        strict: every model weight must be in the file and every file weight in the model.

    Example:
        >>> model = tf.load_layers_model('file://./my-model')
    """
    from . import model_io

    return model_io.load_model(path, strict=strict)


install_aliases(LayersModel)
install_aliases(Sequential, ["input_shape", "output_shape"])
