"""``tf.train``: optimizers with TF.js's constructors, defaults and update formulas."""

from __future__ import annotations

from .optimizer import Optimizer


class SGDOptimizer(Optimizer):
    """Plain gradient descent: ``w -= lr * g``."""

    def update(self, var, grad, slots, lr, t):
        return var - lr * grad, {}


def sgd(learning_rate: float) -> SGDOptimizer:
    """Stochastic gradient descent (TF.js's ``tf.train.sgd``)."""
    return SGDOptimizer(learning_rate)
