"""Classify scikit-learn's bundled 8x8 handwritten digits with a small dense network.

Run:  pip install 'clflow[digits]' && python examples/digits.py
The data ships with scikit-learn (no download). Expect about 97 % validation accuracy.
"""

from __future__ import annotations

import sys
import time

import clflow as tf
import numpy as np


def load_digits() -> tuple[np.ndarray, np.ndarray] | None:
    """Pixels scaled to [0, 1] and one-hot labels, shuffled once (fit's split takes the end)."""
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        return None
    digits = sk_load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))
    x = (digits.data[order] / 16.0).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[digits.target[order]]
    return x, y


def main() -> int:
    loaded = load_digits()
    if loaded is None:
        print("This example needs scikit-learn for its bundled digits data set:")
        print("    pip install 'clflow[digits]'    (or: pip install scikit-learn)")
        return 0
    x, y = loaded
    print("OpenCL device:", tf.get_backend())
    print(f"{len(x)} digits of 8x8 pixels")
    tf.set_seed(0)
    model = tf.sequential({
        "layers": [
            tf.layers.dense({"inputShape": [64], "units": 64, "activation": "relu"}),
            tf.layers.dense({"units": 10, "activation": "softmax"}),
        ]
    })  # fmt: skip
    model.compile({"optimizer": "adam", "loss": "categoricalCrossentropy", "metrics": ["accuracy"]})
    model.optimizer.set_learning_rate(0.01)
    start = time.perf_counter()
    info = model.fit(x, y, {"epochs": 30, "batchSize": 32, "validationSplit": 0.2, "verbose": 0})
    took = time.perf_counter() - start
    val_acc = info.history["val_acc"][-1]
    print(f"trained 30 epochs in {took:.1f} s; loss {info.history['loss'][-1]:.4f}")
    print(f"Final validation accuracy: {val_acc:.4f}")
    return 0 if val_acc >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
