"""``tf.layers``: layer classes and their TF.js-style factories."""

from __future__ import annotations

from .._options import install_aliases
from .base import Layer, LayerVariable, get_uid, reset_name_counters
from .core import (
    LAYER_CLASSES,
    Activation,
    Dense,
    Dropout,
    Flatten,
    Reshape,
    activation,
    dense,
    dropout,
    flatten,
    reshape,
)


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Make a custom Layer subclass loadable from model.json by its class name."""
    LAYER_CLASSES[cls.get_class_name()] = cls
    return cls


for _cls in (Layer, LayerVariable):
    install_aliases(_cls)

__all__ = [
    "LAYER_CLASSES",
    "Activation",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "LayerVariable",
    "Reshape",
    "activation",
    "dense",
    "dropout",
    "flatten",
    "get_uid",
    "register_layer",
    "reset_name_counters",
    "reshape",
]
