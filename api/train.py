"""``tf.train``: optimizers with TF.js's constructors, defaults, update formulas and configs.

Each optimizer only states its slots and its update rule with tensor ops; the Optimizer base
(``optimizer.py``) traces the loss, differentiates it, appends these updates and compiles the
whole step once. Hyperparameters other than the learning rate are baked into the compiled step
(``config_key``); the learning rate and the step count ``t`` (1, 2, ...) are inputs, so
``set_learning_rate`` never recompiles. Slot names are TF.js's (``<var>/m``, ``<var>/rms``...).
"""

from __future__ import annotations

from ._options import install_aliases
from .ops import abs as abs_
from .ops import maximum, sqrt, square
from .optimizer import Optimizer
from .tensor import Tensor

EPSILON = 1e-7
"""TF.js's backend epsilon (``tf.backend().epsilon()`` on float32 backends)."""


def _epsilon(epsilon: float | None) -> float:
    return EPSILON if epsilon is None else float(epsilon)


class _TrainOptimizer(Optimizer):
    """Shared TF.js surface of the ``tf.train`` optimizers (class name, from_config)."""

    class_name = "Optimizer"
    # (attribute, TF.js config key) of each hyperparameter after the learning rate, in
    # TF.js's getConfig() order; they are baked into the compiled step.
    hyperparameters: tuple[tuple[str, str], ...] = ()

    def get_class_name(self) -> str:
        """TF.js's ``getClassName()``, e.g. ``'Adam'`` (used in saved training configs)."""
        return self.class_name

    def get_config(self) -> dict:
        """TF.js's ``getConfig()``: ``{'learningRate': ..., <hyperparameters>}``."""
        config = {"learningRate": self.learning_rate}
        config.update({key: getattr(self, attr) for attr, key in self.hyperparameters})
        return config

    def config_key(self) -> tuple:
        return (self.class_name, *(getattr(self, attr) for attr, _ in self.hyperparameters))

    @classmethod
    def from_config(cls, config: dict) -> _TrainOptimizer:
        """Rebuild from ``get_config()`` (TF.js's camelCase keys)."""
        keys = {key: attr for attr, key in cls.hyperparameters}
        keys["learningRate"] = "learning_rate"
        return cls(**{keys.get(k, k): v for k, v in config.items()})

    def __repr__(self) -> str:
        return f"{self.class_name}({self.get_config()})"


class SGDOptimizer(_TrainOptimizer):
    """Plain gradient descent: ``w -= lr * g``."""

    class_name = "SGD"

    def update(self, var, grad, slots, lr, t):
        return var - lr * grad, {}


class MomentumOptimizer(_TrainOptimizer):
    """``a = m * a + g``; ``w -= lr * a`` (Nesterov: ``w -= lr * (g + m * a)``)."""

    class_name = "Momentum"
    hyperparameters = (("momentum", "momentum"), ("use_nesterov", "useNesterov"))
    slot_names = ("momentum",)

    def __init__(self, learning_rate: float, momentum: float, use_nesterov: bool = False) -> None:
        super().__init__(learning_rate)
        self.momentum = float(momentum)
        self.use_nesterov = bool(use_nesterov)

    def update(self, var, grad, slots, lr, t):
        acc = slots["momentum"] * self.momentum + grad
        step = grad + acc * self.momentum if self.use_nesterov else acc
        return var - lr * step, {"momentum": acc}


class AdagradOptimizer(_TrainOptimizer):
    """``acc += g^2``; ``w -= lr * g / sqrt(acc + eps)``."""

    class_name = "Adagrad"
    hyperparameters = (("initial_accumulator_value", "initialAccumulatorValue"),)
    slot_names = ("accumulator",)

    def __init__(self, learning_rate: float, initial_accumulator_value: float = 0.1) -> None:
        super().__init__(learning_rate)
        self.initial_accumulator_value = float(initial_accumulator_value)

    def init_slot(self, slot: str, var: Tensor) -> float:
        return self.initial_accumulator_value

    def update(self, var, grad, slots, lr, t):
        acc = slots["accumulator"] + square(grad)
        return var - lr * grad / sqrt(acc + EPSILON), {"accumulator": acc}


class AdadeltaOptimizer(_TrainOptimizer):
    """Adadelta as TF.js computes it: the step is scaled by the gradient accumulator from
    *before* this step's update (``sqrt(accum_var + eps) / sqrt(old accum_grad + eps)``)."""

    class_name = "Adadelta"
    hyperparameters = (("rho", "rho"), ("epsilon", "epsilon"))
    slot_names = ("accum_grad", "accum_var")

    def __init__(
        self, learning_rate: float = 0.001, rho: float = 0.95, epsilon: float | None = None
    ) -> None:
        super().__init__(learning_rate)
        self.rho = float(rho)
        self.epsilon = _epsilon(epsilon)

    def update(self, var, grad, slots, lr, t):
        rho, eps = self.rho, self.epsilon
        old_grad, old_var = slots["accum_grad"], slots["accum_var"]
        new_grad = old_grad * rho + square(grad) * (1 - rho)
        step = sqrt(old_var + eps) / sqrt(old_grad + eps) * grad  # TF.js: old_grad, not new
        new_var = old_var * rho + square(step) * (1 - rho)
        return var - lr * step, {"accum_grad": new_grad, "accum_var": new_var}


class AdamOptimizer(_TrainOptimizer):
    """``w -= lr * m_hat / (sqrt(v_hat) + eps)`` with bias-corrected moments."""

    class_name = "Adam"
    hyperparameters = (("beta1", "beta1"), ("beta2", "beta2"), ("epsilon", "epsilon"))
    slot_names = ("m", "v")

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float | None = None,
    ) -> None:
        super().__init__(learning_rate)
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.epsilon = _epsilon(epsilon)

    def update(self, var, grad, slots, lr, t):
        b1, b2 = self.beta1, self.beta2
        m = slots["m"] * b1 + grad * (1 - b1)
        v = slots["v"] * b2 + square(grad) * (1 - b2)
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        return var - lr * m_hat / (sqrt(v_hat) + self.epsilon), {"m": m, "v": v}


class AdamaxOptimizer(_TrainOptimizer):
    """Adam with the infinity norm: ``u = max(b2 * u, |g|)``; ``w -= lr_t * m / (u + eps)``."""

    class_name = "Adamax"
    hyperparameters = (
        ("beta1", "beta1"),
        ("beta2", "beta2"),
        ("epsilon", "epsilon"),
        ("decay", "decay"),
    )
    slot_names = ("m", "v")

    def __init__(
        self,
        learning_rate: float = 0.002,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float | None = None,
        decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate)
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.epsilon = _epsilon(epsilon)
        self.decay = float(decay)

    def update(self, var, grad, slots, lr, t):
        b1 = self.beta1
        if self.decay:
            lr = lr / ((t - 1) * self.decay + 1)
        m = slots["m"] * b1 + grad * (1 - b1)
        u = maximum(slots["v"] * self.beta2, abs_(grad))
        new = var - lr / (1 - b1**t) * m / (u + self.epsilon)
        return new, {"m": m, "v": u}


class RMSPropOptimizer(_TrainOptimizer):
    """``ms = d * ms + (1-d) g^2``; ``mom = m * mom + lr * g / sqrt(ms + eps)``; ``w -= mom``.

    Centered: ``mg = d * mg + (1-d) g`` and the denominator is ``sqrt(ms - (mg^2 + eps))``
    (TF.js subtracts epsilon there).
    """

    class_name = "RMSProp"
    hyperparameters = (
        ("decay", "decay"),
        ("momentum", "momentum"),
        ("epsilon", "epsilon"),
        ("centered", "centered"),
    )

    def __init__(
        self,
        learning_rate: float,
        decay: float = 0.9,
        momentum: float = 0.0,
        epsilon: float | None = None,
        centered: bool = False,
    ) -> None:
        super().__init__(learning_rate)
        self.decay, self.momentum = float(decay), float(momentum)
        self.epsilon = _epsilon(epsilon)
        self.centered = bool(centered)
        self.slot_names = ("rms", "momentum", "mg") if self.centered else ("rms", "momentum")

    def update(self, var, grad, slots, lr, t):
        d = self.decay
        ms = slots["rms"] * d + square(grad) * (1 - d)
        new_slots = {"rms": ms}
        if self.centered:
            mg = slots["mg"] * d + grad * (1 - d)
            denom = sqrt(ms - (square(mg) + self.epsilon))
            new_slots["mg"] = mg
        else:
            denom = sqrt(ms + self.epsilon)
        mom = slots["momentum"] * self.momentum + lr * grad / denom
        new_slots["momentum"] = mom
        return var - mom, new_slots


def sgd(learning_rate: float) -> SGDOptimizer:
    """Stochastic gradient descent (TF.js's ``tf.train.sgd``).

    Args:
        learning_rate: the step size.

    Example:
        >>> opt = tf.train.sgd(0.1)
        >>> opt.minimize(lambda: w.square().sum())
    """
    return SGDOptimizer(learning_rate)


def momentum(
    learning_rate: float, momentum: float, use_nesterov: bool = False
) -> MomentumOptimizer:
    """Gradient descent with momentum (TF.js's ``tf.train.momentum``).

    Args:
        learning_rate: the step size.
        momentum: the decay of the accumulated gradient.
        use_nesterov: use Nesterov's look-ahead update.

    Example:
        >>> opt = tf.train.momentum(0.1, 0.9)
    """
    return MomentumOptimizer(learning_rate, momentum, use_nesterov)


def adagrad(learning_rate: float, initial_accumulator_value: float = 0.1) -> AdagradOptimizer:
    """Adagrad (TF.js's ``tf.train.adagrad``).

    Args:
        learning_rate: the step size.
        initial_accumulator_value: starting value of the squared-gradient accumulators.

    Example:
        >>> opt = tf.train.adagrad(0.1)
    """
    return AdagradOptimizer(learning_rate, initial_accumulator_value)


def adadelta(
    learning_rate: float = 0.001, rho: float = 0.95, epsilon: float | None = None
) -> AdadeltaOptimizer:
    """Adadelta (TF.js's ``tf.train.adadelta``).

    Args:
        learning_rate: the step size.
        rho: decay of both accumulators.
        epsilon: added inside the square roots (default the backend epsilon, 1e-7).

    Example:
        >>> opt = tf.train.adadelta(1.0)
    """
    return AdadeltaOptimizer(learning_rate, rho, epsilon)


def adam(
    learning_rate: float = 0.001,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float | None = None,
) -> AdamOptimizer:
    """Adam (TF.js's ``tf.train.adam``).

    Args:
        learning_rate: the step size.
        beta1: decay of the first moment.
        beta2: decay of the second moment.
        epsilon: added to ``sqrt(v_hat)`` (default the backend epsilon, 1e-7).

    Example:
        >>> opt = tf.train.adam(0.01)
    """
    return AdamOptimizer(learning_rate, beta1, beta2, epsilon)


def adamax(
    learning_rate: float = 0.002,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float | None = None,
    decay: float = 0.0,
) -> AdamaxOptimizer:
    """Adamax (TF.js's ``tf.train.adamax``).

    Args:
        learning_rate: the step size.
        beta1: decay of the first moment.
        beta2: decay of the infinity norm.
        epsilon: added to the norm (default the backend epsilon, 1e-7).
        decay: learning-rate decay: ``lr / (1 + decay * (t - 1))``.

    Example:
        >>> opt = tf.train.adamax(0.02)
    """
    return AdamaxOptimizer(learning_rate, beta1, beta2, epsilon, decay)


def rmsprop(
    learning_rate: float,
    decay: float = 0.9,
    momentum: float = 0.0,
    epsilon: float | None = None,
    centered: bool = False,
) -> RMSPropOptimizer:
    """RMSProp (TF.js's ``tf.train.rmsprop``).

    Args:
        learning_rate: the step size.
        decay: decay of the mean square (and mean gradient when centered).
        momentum: momentum of the update.
        epsilon: added in the denominator (default the backend epsilon, 1e-7).
        centered: normalise by the estimated variance instead of the second moment.

    Example:
        >>> opt = tf.train.rmsprop(0.01, 0.9, 0.5)
    """
    return RMSPropOptimizer(learning_rate, decay, momentum, epsilon, centered)


OPTIMIZERS: dict[str, type[_TrainOptimizer]] = {
    c.class_name: c
    for c in (
        SGDOptimizer,
        MomentumOptimizer,
        AdagradOptimizer,
        AdadeltaOptimizer,
        AdamOptimizer,
        AdamaxOptimizer,
        RMSPropOptimizer,
    )
}
"""TF.js class names (``getClassName()``) to classes, for saved training configs."""

for _cls in OPTIMIZERS.values():
    install_aliases(
        _cls,
        [
            "get_class_name",
            "get_config",
            "get_weights",
            "set_weights",
            "set_learning_rate",
            "compute_gradients",
            "apply_gradients",
        ],
    )
