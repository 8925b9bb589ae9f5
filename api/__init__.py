"""clflow: train neural networks on any OpenCL device with TensorFlow.js's workflow.

    import clflow as tf
    x = tf.tensor([[1, 2], [3, 4]])
    x.mat_mul(x).relu().print()
"""

from . import engine
from .ops import *  # noqa: F401,F403
from .ops import METHODS, fill, zeros, ones  # noqa: F401
from .tensor import DisposedError, Tensor, keep, memory, scalar, tensor, tidy  # noqa: F401
from .compiler.ir import IRError  # noqa: F401
from .variables import Variable, variable  # noqa: F401
from .gradients import grad, grads, value_and_grad, value_and_grads, variable_grads  # noqa: F401
from . import train, data  # noqa: F401

__version__ = "0.1.0"


def get_backend() -> str:
    """The OpenCL device in use, e.g. 'pocl: pthread-Intel(R) Xeon(R) Processor'."""
    d = engine.device()
    return f"{d.platform_name}: {d.name}"
