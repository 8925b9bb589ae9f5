"""The TensorFlow.js guide "Training models" (Layers API part), line by line in clflow.

Run:  python examples/train_models.py
It prints what the guide prints: the weight names and shapes, the model summary, the
per-batch accuracy during fit, the final history, the same training with fit_dataset, and a
prediction for 3 random samples.
"""

from __future__ import annotations

import time

import clflow as tf


def main() -> None:
    start = time.perf_counter()
    print("OpenCL device:", tf.get_backend())

    # Model parameters.
    model = tf.sequential({
        "layers": [
            tf.layers.dense({"inputShape": [784], "units": 32, "activation": "relu"}),
            tf.layers.dense({"units": 10, "activation": "softmax"}),
        ]
    })  # fmt: skip
    for w in model.weights:
        print(w.name, w.shape)
    model.summary()

    # Overwrite the weights (w.val is the underlying tf.variable), as the guide demonstrates.
    for w in model.weights:
        new_vals = tf.random_normal(w.shape)
        w.val.assign(new_vals)

    # Optimizer, loss and metric.
    model.compile({"optimizer": "sgd", "loss": "categoricalCrossentropy", "metrics": ["accuracy"]})

    # model.fit(): dummy data, 5 epochs of batches of 32.
    data = tf.random_normal([100, 784])
    labels = tf.random_uniform([100, 10])

    def on_batch_end(batch, logs):
        print("Accuracy", logs["acc"])

    info = model.fit(data, labels, {
        "epochs": 5,
        "batchSize": 32,
        "callbacks": {"onBatchEnd": on_batch_end},
    })  # fmt: skip
    print("Final accuracy", info.history["acc"])

    # model.fitDataset(): the same data one sample at a time from generators.
    def data_gen():
        for _ in range(100):
            yield tf.random_normal([784])

    def labels_gen():
        for _ in range(100):
            yield tf.random_uniform([10])

    xs = tf.data.generator(data_gen)
    ys = tf.data.generator(labels_gen)
    ds = tf.data.zip({"xs": xs, "ys": ys}).shuffle(100).batch(32)
    info = model.fit_dataset(ds, {"epochs": 5})
    print("Accuracy", info.history["acc"])

    # Predict 3 random samples.
    prediction = model.predict(tf.random_normal([3, 784]))
    prediction.print()
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
