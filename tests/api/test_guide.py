"""The guide's Layers section end to end, through examples/train_models.py."""

from __future__ import annotations

import ast
import runpy
from pathlib import Path

import clflow as tf

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_models.py"


def test_guide_layers_flow_prints_what_the_guide_prints(capsys):
    tf.set_seed(0)
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"OpenCL device: {tf.get_backend()}"
    shapes = [line.split(" ", 1) for line in out[1:5]]
    names = [name for name, _ in shapes]
    assert [n.split("/")[1] for n in names] == ["kernel", "bias", "kernel", "bias"]
    assert [ast.literal_eval(s) for _, s in shapes] == [[784, 32], [32], [32, 10], [10]]
    assert "Total params: 25450" in out and "Trainable params: 25450" in out
    per_batch = [line for line in out if line.startswith("Accuracy ") and "[" not in line]
    assert len(per_batch) == 5 * 4  # 5 epochs of batches 32, 32, 32, 4
    assert all(0.0 <= float(line.split()[1]) <= 1.0 for line in per_batch)
    final = [line for line in out if line.startswith("Final accuracy ")]
    assert len(final) == 1 and len(ast.literal_eval(final[0][len("Final accuracy ") :])) == 5
    dataset_acc = [line for line in out if line.startswith("Accuracy [")]
    accs = ast.literal_eval(dataset_acc[0][len("Accuracy ") :])
    assert len(accs) == 5 and all(0 <= a <= 1 for a in accs)
    at = out.index("Tensor")
    rows = out[at + 1 : at + 4]
    assert rows[0].lstrip().startswith("[[") and rows[2].rstrip().endswith("]]")


def test_guide_model_trains_and_predicts_probabilities():
    model = tf.sequential({"layers": [
        tf.layers.dense({"inputShape": [784], "units": 32, "activation": "relu"}),
        tf.layers.dense({"units": 10, "activation": "softmax"}),
    ]})  # fmt: skip
    model.compile({"optimizer": "sgd", "loss": "categoricalCrossentropy", "metrics": ["accuracy"]})
    data = tf.random_normal([100, 784])
    labels = tf.one_hot(tf.tensor(list(range(10)) * 10, dtype="int32"), 10, dtype="float32")
    info = model.fit(data, labels, {"epochs": 5, "batchSize": 32, "verbose": 0})
    assert list(info.history) == ["loss", "acc"] and len(info.history["acc"]) == 5
    assert info.history["loss"][-1] < info.history["loss"][0]
    pred = model.predict(tf.random_normal([3, 784])).numpy()
    assert pred.shape == (3, 10) and abs(pred.sum(-1) - 1).max() < 1e-5
