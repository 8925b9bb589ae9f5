"""Saving and loading TensorFlow.js layers models (model.json + weights.bin)."""

import json
import math
import shutil
from pathlib import Path

import clflow as tf
import numpy as np
import pytest
from clflow import initializers, layers, model_io
from clflow.layers import reset_name_counters
from clflow.models import load_layers_model, sequential

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tfjs"


@pytest.fixture(autouse=True)
def fresh_names():
    reset_name_counters()
    yield


def guide_model():
    return sequential(
        {
            "layers": [
                layers.dense({"inputShape": [784], "units": 32, "activation": "relu"}),
                layers.dense({"units": 10, "activation": "softmax"}),
            ]
        }
    )


def formula_weights(model):
    """The fixtures' weights: model.weights[k] flat element i = sin(i*0.37 + k) * 0.1."""
    out = []
    for k, w in enumerate(model.weights):
        i = np.arange(math.prod(w.shape), dtype=np.float64)
        out.append((np.sin(i * 0.37 + k) * 0.1).astype(np.float32).reshape(w.shape))
    return out


def fit_x_rows(rows):
    """fit.json's x[i][j] = cos(j*0.1*(i%10 + 1) + i*0.01), float32."""
    i = np.array(rows, dtype=np.float64)[:, None]
    j = np.arange(784, dtype=np.float64)[None, :]
    return np.cos(j * 0.1 * (i % 10 + 1) + i * 0.01).astype(np.float32)


def forward(model, x):
    return model.call(tf.tensor(x)).numpy()


# -- round trip ----------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    model = guide_model()
    model.set_weights(formula_weights(model))
    info = model.save(f"file://{tmp_path / 'm'}")
    assert info["weightDataBytes"] == 25450 * 4
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model.json", "weights.bin"]
    loaded = load_layers_model(str(tmp_path / "m"))
    assert loaded.name == model.name
    assert [layer.name for layer in loaded.layers] == ["dense_Dense1", "dense_Dense2"]
    assert [w.original_name for w in loaded.weights] == [w.name for w in model.weights]
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert loaded.get_config() == model.get_config()
    x = fit_x_rows([0, 1, 2])
    np.testing.assert_allclose(forward(loaded, x), forward(model, x), rtol=1e-6)


def test_saved_files_match_tfjs_layout(tmp_path):
    model = guide_model()
    weights = formula_weights(model)
    model.set_weights(weights)
    model.save(tmp_path)
    ours = json.loads((tmp_path / "model.json").read_text())
    theirs = json.loads((FIXTURES / "model_json" / "model.json").read_text())
    assert list(ours) == [
        "modelTopology",
        "weightsManifest",
        "format",
        "generatedBy",
        "convertedBy",
    ]
    assert ours["modelTopology"] == theirs["modelTopology"]
    # Byte for byte the same topology text as JSON.stringify wrote.
    their_text = (FIXTURES / "model_json" / "model.json").read_text()
    our_text = (tmp_path / "model.json").read_text()
    topo = json.dumps(theirs["modelTopology"], separators=(",", ":"))
    assert topo in their_text and topo in our_text
    layer_specs = [
        s for s in theirs["weightsManifest"][0]["weights"] if s.get("group") != "optimizer"
    ]
    assert ours["weightsManifest"] == [{"paths": ["weights.bin"], "weights": layer_specs}]
    assert (ours["format"], ours["convertedBy"]) == ("layers-model", None)
    tfjs_bytes = (FIXTURES / "model_json" / "weights.bin").read_bytes()
    assert (tmp_path / "weights.bin").read_bytes() == tfjs_bytes[: 25450 * 4]


def test_load_model_saved_by_tfjs():
    model = load_layers_model(f"file://{FIXTURES / 'model_json' / 'model.json'}")
    assert model.name == "sequential_1"
    assert [(w.name, w.shape) for w in model.weights] == [
        ("dense_Dense1/kernel", [784, 32]),
        ("dense_Dense1/bias", [32]),
        ("dense_Dense2/kernel", [32, 10]),
        ("dense_Dense2/bias", [10]),
    ]
    for w, expected in zip(model.weights, formula_weights(model), strict=True):
        np.testing.assert_array_equal(w.numpy(), expected)
    assert model.loaded_training_config["loss"] == "categorical_crossentropy"
    expected = json.loads((FIXTURES / "model_json" / "expected.json").read_text())
    want = np.array(expected["predict_rows_0_2_of_fit_x"]["values"], np.float32).reshape(3, 10)
    np.testing.assert_allclose(forward(model, fit_x_rows([0, 1, 2])), want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("folder", ["model_json_adam", "model_json_adam_noopt"])
def test_load_small_tfjs_models(folder):
    model = load_layers_model(FIXTURES / folder)
    assert model.name == "small_adam"
    assert [layer.name for layer in model.layers] == ["hidden", "probs"]
    expected = json.loads((FIXTURES / "model_json_adam" / "expected.json").read_text())
    x = np.array(expected["x"], np.float32)
    want = np.array(expected["predict_x"]["values"], np.float32).reshape(3, 2)
    np.testing.assert_allclose(forward(model, x), want, rtol=1e-5, atol=1e-6)


def test_round_trip_of_other_layers_and_options(tmp_path):
    model = sequential(
        layers=[
            layers.flatten({"inputShape": [2, 3]}),
            layers.dense(
                units=4,
                activation="hardSigmoid",
                kernel_initializer=initializers.he_uniform(seed=1),
                kernel_regularizer="l1l2",
                kernel_constraint={"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}},
            ),
            layers.dropout({"rate": 0.3, "seed": 2}),
            layers.reshape({"targetShape": [2, 2]}),
            layers.activation({"activation": "softmax"}),
        ],
        name="mixed",
    )
    model.save(tmp_path / "mixed")
    loaded = load_layers_model(tmp_path / "mixed" / "model.json")
    assert loaded.get_config() == model.get_config()
    dense_cfg = json.loads((tmp_path / "mixed" / "model.json").read_text())["modelTopology"][
        "config"
    ]["layers"][1]["config"]
    assert dense_cfg["activation"] == "hard_sigmoid"
    assert dense_cfg["kernel_regularizer"] == {
        "class_name": "L1L2",
        "config": {"l1": 0.01, "l2": 0.01},
    }
    assert dense_cfg["kernel_constraint"] == {
        "class_name": "MaxNorm",
        "config": {"max_value": 3, "axis": 0},
    }
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 2, 3)
    np.testing.assert_allclose(forward(loaded, x), forward(model, x), rtol=1e-6)


# -- atomic save ---------------------------------------------------------------------------


def test_failed_save_leaves_previous_save_intact(tmp_path, monkeypatch):
    model = guide_model()
    model.set_weights(formula_weights(model))
    model.save(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    model.set_weights([np.zeros(w.shape, np.float32) for w in model.weights])
    real_write = model_io._write_bytes
    calls = []

    def failing_write(path, data):
        calls.append(path)
        if len(calls) == 2:  # weights staged, then model.json fails (e.g. disk full)
            raise OSError(28, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(model_io, "_write_bytes", failing_write)
    with pytest.raises(OSError, match="No space left"):
        model.save(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temp files left
    reloaded = load_layers_model(tmp_path)
    np.testing.assert_array_equal(reloaded.weights[0].numpy(), formula_weights(model)[0])


# -- corrupt or wrong files ----------------------------------------------------------------


def test_load_missing_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model.json at"):
        load_layers_model(tmp_path / "nowhere")


def test_load_corrupt_json(tmp_path):
    (tmp_path / "model.json").write_text('{"modelTopology": {"class_name": ')
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_layers_model(tmp_path)
    (tmp_path / "model.json").write_text('{"format": "layers-model"}')
    with pytest.raises(ValueError, match="no 'modelTopology'"):
        load_layers_model(tmp_path)
    (tmp_path / "model.json").write_text('{"modelTopology": {}, "format": "graph-model"}')
    with pytest.raises(ValueError, match="format 'graph-model'"):
        load_layers_model(tmp_path)


def _copy_fixture(tmp_path, folder="model_json_adam_noopt"):
    dst = tmp_path / folder
    shutil.copytree(FIXTURES / folder, dst)
    return dst


def test_load_truncated_weights(tmp_path):
    d = _copy_fixture(tmp_path)
    data = (d / "weights.bin").read_bytes()
    (d / "weights.bin").write_bytes(data[:-8])
    with pytest.raises(
        ValueError, match=r"has 84 bytes, but model.json's manifest describes 92 bytes"
    ):
        load_layers_model(d)
    (d / "weights.bin").unlink()
    with pytest.raises(FileNotFoundError, match="weights.bin' listed in model.json"):
        load_layers_model(d)


def test_load_unknown_layer_class(tmp_path):
    d = _copy_fixture(tmp_path)
    doc = json.loads((d / "model.json").read_text())
    doc["modelTopology"]["config"]["layers"][1]["class_name"] = "Conv2D"
    (d / "model.json").write_text(json.dumps(doc))
    with pytest.raises(
        ValueError,
        match=r"Unknown layer class 'Conv2D' \(layer 1.*Supported layer classes: Activation, Dense",
    ):
        load_layers_model(d)


def test_load_weight_name_or_shape_mismatch(tmp_path):
    d = _copy_fixture(tmp_path)
    doc = json.loads((d / "model.json").read_text())
    doc["weightsManifest"][0]["weights"][1]["name"] = "hidden/bias_renamed"
    (d / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="no target variable: hidden/bias_renamed"):
        load_layers_model(d)
    doc["weightsManifest"][0]["weights"][1]["name"] = "hidden/bias"
    doc["weightsManifest"][0]["weights"][0]["shape"] = [3, 4]
    (d / "model.json").write_text(json.dumps(doc))
    with pytest.raises(
        ValueError, match=r"'hidden/kernel' has shape \[4, 3\] in the model but \[3, 4\]"
    ):
        load_layers_model(d)
