"""The TensorFlow.js guide "Training models", Core API part, line by line in clflow.

Run:  python examples/core_api.py            the guide's loop on its random data
      python examples/core_api.py --teacher  a learnable problem: the loss clearly falls

The guide trains two dense layers written with variables and chained ops on random inputs and
random (unlearnable) labels, so its loss only shows that training runs. ``--teacher`` labels
the inputs with a fixed random linear "teacher" (one-hot of its arg-max), which the model can
learn. Each ``minimize`` call replays one compiled step (forward + backward + update); it is
compiled once per batch shape (the last, smaller batch of an epoch is a second shape).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import clflow as tf
import numpy as np


def make_params(hidden: int = 32, stddev: float = 1.0) -> list[tf.Variable]:
    """The weights and biases for the two dense layers (784 -> hidden -> 10)."""
    w1 = tf.variable(tf.random_normal([784, hidden], 0, stddev))
    b1 = tf.variable(tf.random_normal([hidden], 0, stddev))
    w2 = tf.variable(tf.random_normal([hidden, 10], 0, stddev))
    b2 = tf.variable(tf.random_normal([10], 0, stddev))
    return [w1, b1, w2, b2]


def make_model(params: list[tf.Variable]) -> Callable[[tf.Tensor], tf.Tensor]:
    w1, b1, w2, b2 = params

    def model(x: tf.Tensor) -> tf.Tensor:
        return x.mat_mul(w1).add(b1).relu().mat_mul(w2).add(b2)

    return model


def guide_dataset(n: int = 100) -> tf.data.Dataset:
    """The guide's data: one random sample and one random label vector at a time."""

    def data():
        for _ in range(n):
            # Generate one sample at a time.
            yield tf.random_normal([784])

    def labels():
        for _ in range(n):
            # Generate one sample at a time.
            yield tf.random_uniform([10])

    xs = tf.data.generator(data)
    ys = tf.data.generator(labels)
    # Zip the data and labels together, shuffle and batch 32 samples at a time.
    return tf.data.zip({"xs": xs, "ys": ys}).shuffle(100).batch(32)


def teacher_dataset(n: int = 320, seed: int = 0, batch_size: int = 32) -> tf.data.Dataset:
    """Random inputs labelled by a fixed random linear teacher: one-hot of argmax(x @ W)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 784)).astype(np.float32)
    teacher = rng.normal(size=(784, 10)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[np.argmax(x @ teacher, axis=1)]

    def data():
        for row in x:
            yield tf.tensor(row)

    def labels():
        for row in y:
            yield tf.tensor(row)

    ds = tf.data.zip({"xs": tf.data.generator(data), "ys": tf.data.generator(labels)})
    return ds.shuffle(n, seed=seed).batch(batch_size)


def train(
    ds: tf.data.Dataset,
    model: Callable,
    optimizer,
    epochs: int = 5,
    log: Callable[..., None] | None = print,
) -> list[float]:
    """The guide's loop; returns the loss of every batch (read back as the guide prints it)."""
    losses: list[float] = []

    def step(batch: dict) -> None:
        cost = optimizer.minimize(
            lambda: tf.losses.softmax_cross_entropy(batch["ys"], model(batch["xs"])),
            return_cost=True,
        )
        losses.append(float(cost))
        if log:
            log("Loss", losses[-1])

    # Train for `epochs` epochs.
    for epoch in range(epochs):
        ds.for_each(step)
        if log:
            log("Epoch", epoch)
    return losses


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", action="store_true", help="train on the learnable problem")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)
    print("OpenCL device:", tf.get_backend())
    start = time.perf_counter()
    if args.teacher:
        # Small initial weights and a smaller step: the guide's N(0, 1) weights on 784 inputs
        # give logits in the hundreds, which a learnable problem does not need.
        model = make_model(make_params(stddev=0.05))
        losses = train(teacher_dataset(), model, tf.train.sgd(0.2), args.epochs)
        first, last = np.mean(losses[:5]), np.mean(losses[-5:])
        print(f"mean loss of the first 5 batches {first:.4f}, of the last 5 {last:.4f}")
    else:
        model = make_model(make_params())
        optimizer = tf.train.sgd(0.1)
        train(guide_dataset(), model, optimizer, args.epochs)
    info = tf.engine.cache_info()
    print(
        f"{time.perf_counter() - start:.2f} s, {info['compiles']} compilations, "
        f"{tf.engine.device().stats['builds']} program builds"
    )


if __name__ == "__main__":
    main()
