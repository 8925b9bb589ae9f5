"""clflow: train neural networks on any OpenCL device with TensorFlow.js's workflow.

import clflow as tf
x = tf.tensor([[1, 2], [3, 4]])
x.mat_mul(x).relu().print()
"""

import sys as _sys

from . import engine
from .compiler.ir import IRError
from .tensor import DisposedError, Tensor, keep, memory, scalar, tensor, tidy
from .ops import *  # noqa: F403  (the op functions: tf.add, tf.mat_mul, tf.random_normal, ...)
from .variables import Variable, variable
from .gradients import grad, grads, value_and_grad, value_and_grads, variable_grads
from . import activations, constraints, data, initializers, layers, regularizers, train
from . import callbacks, metrics, training
from . import losses
from .losses import Reduction
from .models import LayersModel, Sequential, load_layers_model, sequential
from .dump import dump_graph
from ._options import install_aliases as _install_aliases

__version__ = "0.1.0"


def get_backend() -> str:
    """The OpenCL device in use, e.g. 'Portable Computing Language: pthread-...'."""
    d = engine.device()
    return f"{d.platform_name}: {d.name}"


def dispose(x) -> None:
    """Dispose a tensor, or every tensor in a list / dict."""
    stack = [x]
    while stack:
        t = stack.pop()
        if isinstance(t, Tensor):
            t.dispose()
        elif isinstance(t, list | tuple):
            stack.extend(t)
        elif isinstance(t, dict):
            stack.extend(t.values())


# TF.js spellings: tf.matMul, tf.randomNormal, t.dataSync(), ... (one table, in _options).
_install_aliases(_sys.modules[__name__])
for _target in (Tensor, Variable, train, data):
    _install_aliases(_target)
