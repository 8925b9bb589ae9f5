"""Layers API structure: TF.js names, summary text, weights, initializers, activations, layers."""

import math
from pathlib import Path

import clflow as tf
import numpy as np
import pytest
from clflow import activations, constraints, initializers, layers, regularizers
from clflow.layers import Activation, Dense, Dropout, Flatten, Reshape, reset_name_counters
from clflow.models import Sequential, sequential

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tfjs"


@pytest.fixture(autouse=True)
def fresh_names():
    """Each test starts like a fresh TF.js process: the first Dense is dense_Dense1."""
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


def fixture_block(name: str, header: str) -> list[str]:
    """Lines of weights.txt after a '# header' line, up to the next '#'."""
    lines = (FIXTURES / name).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# " + header))
    block = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        block.append(line)
    return block


def printed(model, **kwargs) -> list[str]:
    lines: list[str] = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


# -- names, counters, weights --------------------------------------------------------------


def test_guide_weight_names_and_shapes():
    model = guide_model()
    got = [f"{w.name} {str(w.shape).replace(' ', '')}" for w in model.weights]
    assert got == fixture_block("weights.txt", "same, browser/JSON style")
    assert [w.original_name for w in model.weights] == [w.name for w in model.weights]
    assert all(w.trainable and w.dtype == "float32" for w in model.weights)


def test_second_model_continues_the_counters():
    first, second = guide_model(), guide_model()
    expected = fixture_block("weights.txt", "second guide-shaped model")
    assert [f"{w.name} [ {', '.join(map(str, w.shape))} ]" for w in second.weights] == expected
    assert [layer.name for layer in first.layers] == ["dense_Dense1", "dense_Dense2"]
    assert (first.name, second.name) == ("sequential_1", "sequential_2")


def test_counters_are_per_class_and_names_override():
    a = layers.dense({"units": 2, "name": "foo"})
    b = layers.dense({"units": 2})
    assert (a.name, b.name) == ("foo", "dense_Dense1")
    names = [
        Flatten().name,
        Dropout({"rate": 0.5}).name,
        Activation({"activation": "relu"}).name,
        Reshape({"targetShape": [2, 2]}).name,
        Flatten().name,
    ]
    assert names == [
        "flatten_Flatten1",
        "dropout_Dropout1",
        "activation_Activation1",
        "reshape_Reshape1",
        "flatten_Flatten2",
    ]


def test_duplicate_layer_names_get_unique_weight_names():
    m1 = sequential([Dense(units=2, input_shape=[3], name="same")])
    m2 = sequential([Dense(units=2, input_shape=[3], name="same")])
    assert m1.weights[0].name == "same/kernel"
    assert m2.weights[0].name == "same/kernel_1"
    assert m2.weights[0].original_name == "same/kernel"


def test_count_params_guide():
    assert guide_model().count_params() == 25450


def test_weight_val_is_a_variable_with_assign():
    model = guide_model()
    w = model.weights[1]
    w.val.assign(tf.ones(w.shape))
    np.testing.assert_array_equal(model.weights[1].read().numpy(), np.ones(32, np.float32))


# -- summary -------------------------------------------------------------------------------


def test_summary_matches_tfjs_exactly():
    assert printed(guide_model()) == (FIXTURES / "summary.txt").read_text().splitlines()


def test_summary_line_length_80():
    expected = (FIXTURES / "summary_linelength80.txt").read_text().splitlines()
    assert printed(guide_model(), line_length=80) == expected


def test_summary_three_layers_with_flatten_and_dropout():
    model = sequential()
    model.add(layers.flatten({"inputShape": [28, 28]}))
    model.add(layers.dense({"units": 32, "activation": "relu", "name": "dense_Dense5"}))
    model.add(layers.dropout({"rate": 0.2}))
    model.add(layers.dense({"units": 10, "activation": "softmax", "name": "dense_Dense6"}))
    assert printed(model) == (FIXTURES / "summary_3layer.txt").read_text().splitlines()


def test_summary_frozen_layer_counts_non_trainable():
    names = ["dense_Dense7", "dense_Dense8", "dense_Dense9"]
    model = sequential(
        layers=[
            Dense(units=512, activation="relu", input_shape=[784], name=names[0]),
            Dense(units=512, activation="relu", name=names[1]),
            Dense(units=10, activation="softmax", name=names[2]),
        ]
    )
    model.layers[1].trainable = False
    assert printed(model) == (FIXTURES / "summary_3dense_frozen.txt").read_text().splitlines()
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 2
    assert [w.name for w in model.non_trainable_weights] == [
        "dense_Dense8/kernel",
        "dense_Dense8/bias",
    ]


def test_summary_default_print_fn_prints(capsys):
    guide_model().summary()
    assert (
        capsys.readouterr().out.splitlines() == (FIXTURES / "summary.txt").read_text().splitlines()
    )


def test_summary_of_empty_model_raises():
    with pytest.raises(TypeError, match="model is empty"):
        sequential().summary()


# -- get/set weights -----------------------------------------------------------------------


def test_get_set_weights_round_trip():
    model = guide_model()
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(w.shape).astype(np.float32) for w in model.weights]
    model.set_weights(values)
    got = model.get_weights()
    assert all(hasattr(t, "numpy") for t in got)
    for t, v in zip(got, values, strict=True):
        np.testing.assert_array_equal(t.numpy(), v)
    # Snapshots: a later assignment does not change what get_weights returned.
    model.weights[0].write(np.zeros([784, 32], np.float32))
    np.testing.assert_array_equal(got[0].numpy(), values[0])


def test_set_weights_wrong_count_or_shape_changes_nothing():
    model = guide_model()
    before = [w.numpy() for w in model.weights]
    with pytest.raises(ValueError, match="weight list of length 1, but it was expecting 4"):
        model.set_weights([np.ones([784, 32], np.float32)])
    bad = [np.ones(w.shape, np.float32) for w in model.weights]
    bad[3] = np.ones([11], np.float32)
    with pytest.raises(
        ValueError, match="Layer weight shape 10 not compatible with provided weight shape 11"
    ):
        model.set_weights(bad)
    for w, b in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(w.numpy(), b)


# -- initializers --------------------------------------------------------------------------


def test_dense_default_kernel_is_glorot_normal_truncated():
    layer = Dense(units=300, input_shape=[500])
    sequential(layers=[layer])
    k = layer.kernel.numpy()
    std = math.sqrt(2.0 / (500 + 300))
    assert np.abs(k).max() <= 2 * std + 1e-6  # truncated at two standard deviations
    # A normal truncated at +-2 sigma has std 0.8796 sigma (TF.js does not rescale).
    assert k.std() == pytest.approx(0.87962566 * std, rel=0.02)
    assert abs(k.mean()) < 0.02 * std * 10
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(300, np.float32))


@pytest.mark.parametrize(
    "name, scale, fan, dist",
    [
        ("glorotUniform", 1.0, "avg", "uniform"),
        ("glorot_normal", 1.0, "avg", "normal"),
        ("heNormal", 2.0, "in", "normal"),
        ("he_uniform", 2.0, "in", "uniform"),
        ("leCunNormal", 1.0, "in", "normal"),
        ("lecun_uniform", 1.0, "in", "uniform"),
    ],
)
def test_variance_scaling_presets_statistics(name, scale, fan, dist):
    shape = [400, 250]
    fans = {"in": 400, "avg": (400 + 250) / 2}
    values = initializers.get(name).generate(shape)
    assert values.dtype == np.float32 and list(values.shape) == shape
    s = math.sqrt(scale / fans[fan])
    if dist == "uniform":
        limit = math.sqrt(3) * s
        assert np.abs(values).max() <= limit
        assert values.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)
    else:
        assert np.abs(values).max() <= 2 * s + 1e-6
        assert values.std() == pytest.approx(0.87962566 * s, rel=0.02)


def test_compute_fans_like_tfjs():
    assert initializers.compute_fans([784, 32]) == (784, 32)
    assert initializers.compute_fans([3, 3, 16, 32]) == (9 * 16, 9 * 32)
    assert initializers.compute_fans([16]) == (4.0, 4.0)


def test_random_initializers_defaults_and_seed():
    normal = initializers.random_normal({"seed": 3}).generate([200, 200])
    assert normal.mean() == pytest.approx(0.0, abs=0.002)
    assert normal.std() == pytest.approx(0.05, rel=0.02)
    uniform = initializers.random_uniform().generate([200, 200])
    assert uniform.min() >= -0.05 and uniform.max() <= 0.05
    assert uniform.std() == pytest.approx(0.1 / math.sqrt(12), rel=0.02)
    trunc = initializers.truncated_normal(mean=1.0, stddev=0.1).generate([10000])
    assert trunc.min() >= 0.8 - 1e-6 and trunc.max() <= 1.2 + 1e-6
    a = initializers.glorotNormal({"seed": 1}).generate([20, 30])
    b = initializers.glorot_normal(seed=1).generate([20, 30])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, initializers.glorot_normal(seed=2).generate([20, 30]))


def test_constant_orthogonal_identity_zeros_ones():
    np.testing.assert_array_equal(
        initializers.constant({"value": 2.5}).generate([2, 3]), np.full([2, 3], 2.5)
    )
    np.testing.assert_array_equal(initializers.get("ones").generate([3]), np.ones(3))
    np.testing.assert_array_equal(initializers.get("zeros").generate([3]), np.zeros(3))
    q = initializers.orthogonal({"gain": 2.0, "seed": 0}).generate([6, 4]).astype(np.float64)
    np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(4), atol=1e-5)
    wide = initializers.orthogonal(seed=1).generate([3, 5]).astype(np.float64)
    np.testing.assert_allclose(wide @ wide.T, np.eye(3), atol=1e-5)
    np.testing.assert_array_equal(initializers.identity(gain=3).generate([3, 3]), 3 * np.eye(3))
    with pytest.raises(ValueError, match="square 2-D"):
        initializers.identity().generate([2, 3])


def test_initializer_errors_and_serialisation():
    with pytest.raises(ValueError, match="Did you mean 'glorotNormal'"):
        initializers.get("glorotNormall")
    with pytest.raises(TypeError, match="did you mean 'seed'"):
        initializers.glorot_normal({"sed": 1})
    config = initializers.serialize(initializers.get("glorotNormal"))
    assert config == {
        "class_name": "VarianceScaling",
        "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "normal", "seed": None},
    }
    back = initializers.deserialize(config)
    assert (back.scale, back.mode, back.distribution) == (1.0, "fanAvg", "normal")
    assert initializers.get("varianceScaling").mode == "fanIn"


# -- activations ---------------------------------------------------------------------------

_X = np.linspace(-4, 4, 17, dtype=np.float32).reshape(1, 17)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


_REFERENCE = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "hardSigmoid": lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    "softmax": _softmax,
    "logSoftmax": lambda x: np.log(_softmax(x)),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (np.abs(x) + 1),
    "tanh": np.tanh,
    "swish": lambda x: x / (1 + np.exp(-x)),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "gelu": lambda x: x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2))),
}


@pytest.mark.parametrize("name", sorted(_REFERENCE))
def test_activation_values_against_numpy(name):
    x64 = _X.astype(np.float64)
    got = activations.get(name)(tf.tensor(_X)).numpy()
    np.testing.assert_allclose(got, _REFERENCE[name](x64), rtol=1e-3, atol=1e-4)
    snake = "".join("_" + c.lower() if c.isupper() else c for c in name)
    assert activations.get(snake) is activations.get(name)


def test_gelu_without_engine_erf_uses_polynomial(monkeypatch):
    monkeypatch.delattr(tf, "erf", raising=False)
    got = activations.get("gelu")(tf.tensor(_X)).numpy()
    np.testing.assert_allclose(got, _REFERENCE["gelu"](_X.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_unknown_activation_names_valid_ones():
    with pytest.raises(ValueError) as info:
        activations.get("rellu")
    msg = str(info.value)
    assert msg.startswith("Unknown activation: rellu.") and "Did you mean 'relu'?" in msg
    assert "hardSigmoid" in msg and "softmax" in msg


def test_activation_serialisation_names():
    assert activations.serialize(activations.get("hardSigmoid")) == "hard_sigmoid"
    assert activations.serialize(activations.get(None)) == "linear"


# -- regularizers and constraints ----------------------------------------------------------

_W = np.array([[3.0, -1.0], [4.0, 0.5], [0.0, -2.0]], np.float32)


def test_regularizers_against_numpy():
    w = tf.tensor(_W)
    assert float(regularizers.l1()(w).numpy()) == pytest.approx(0.01 * np.abs(_W).sum(), rel=1e-5)
    assert float(regularizers.l2({"l2": 0.5})(w).numpy()) == pytest.approx(
        0.5 * (_W**2).sum(), rel=1e-5
    )
    both = regularizers.l1l2(l1=0.1, l2=0.2)(w).numpy()
    assert float(both) == pytest.approx(0.1 * np.abs(_W).sum() + 0.2 * (_W**2).sum(), rel=1e-5)
    assert (regularizers.get("l1l2").l1, regularizers.get("l1l2").l2) == (0.01, 0.01)
    assert regularizers.serialize(regularizers.l2()) == {
        "class_name": "L1L2",
        "config": {"l1": 0.0, "l2": 0.01},
    }


def _norms(w, axis):
    return np.sqrt((w.astype(np.float64) ** 2).sum(axis=axis, keepdims=True))


def test_constraints_against_numpy():
    w = tf.tensor(_W)
    n0 = _norms(_W, 0)
    got = constraints.max_norm({"maxValue": 2})(w).numpy()
    np.testing.assert_allclose(got, _W * np.clip(n0, 0, 2) / (n0 + 1e-7), rtol=1e-5)
    got = constraints.min_max_norm(min_value=3, max_value=4, rate=0.5)(w).numpy()
    desired = 0.5 * np.clip(n0, 3, 4) + 0.5 * n0
    np.testing.assert_allclose(got, _W * desired / (n0 + 1e-7), rtol=1e-5)
    np.testing.assert_allclose(constraints.non_neg()(w).numpy(), np.maximum(_W, 0))
    n1 = _norms(_W, 1)
    np.testing.assert_allclose(
        constraints.unit_norm({"axis": 1})(w).numpy(), _W / (n1 + 1e-7), rtol=1e-5
    )
    assert isinstance(constraints.get("maxNorm"), constraints.MaxNorm)
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)


def test_kernel_constraint_applies_on_write():
    layer = Dense(units=2, input_shape=[3], kernel_constraint="nonNeg")
    sequential(layers=[layer])
    layer.kernel.write(_W)
    np.testing.assert_array_equal(layer.kernel.numpy(), np.maximum(_W, 0))


# -- layers --------------------------------------------------------------------------------


def test_dense_forward_against_numpy():
    layer = Dense(units=3, activation="relu", input_shape=[4])
    model = sequential(layers=[layer])
    rng = np.random.default_rng(1)
    k, b = rng.standard_normal([4, 3]).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    model.set_weights([k, b])
    x = rng.standard_normal([5, 4]).astype(np.float32)
    got = model.call(tf.tensor(x)).numpy()
    np.testing.assert_allclose(
        got, np.maximum(x.astype(np.float64) @ k + b, 0), rtol=1e-3, atol=1e-4
    )


def test_dense_on_rank3_input():
    layer = Dense(units=2, use_bias=False)
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    y = layer.apply(tf.tensor(x))
    assert y.shape == [2, 3, 2] and len(layer.weights) == 1
    np.testing.assert_allclose(y.numpy(), x @ layer.kernel.numpy(), rtol=1e-4)


def test_dense_options_and_errors():
    with pytest.raises(ValueError, match="Expected units to be a positive integer, but got 0"):
        layers.dense({"units": 0})
    with pytest.raises(TypeError, match="did you mean 'inputShape'"):
        layers.dense({"units": 3, "inputShap": [3]})
    layer = layers.dense({"units": 3, "inputDim": 5})
    assert layer.batch_input_shape == [None, 5]


def test_dense_config_matches_tfjs_model_json():
    import json

    model = guide_model()
    topology = json.loads((FIXTURES / "model_json" / "model.json").read_text())["modelTopology"]
    assert model.get_config() == topology["config"]


def test_dropout_only_in_training():
    drop = Dropout(rate=0.25, seed=7)
    x = np.ones([64, 64], np.float32)
    np.testing.assert_array_equal(drop.apply(tf.tensor(x)).numpy(), x)
    y = drop.apply(tf.tensor(x), training=True).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert (y == 0).mean() == pytest.approx(0.25, abs=0.03)


def test_dropout_noise_shape_shares_mask():
    drop = Dropout(rate=0.5, noise_shape=[None, 1], seed=3)
    y = drop.apply(tf.ones([32, 8]), training=True).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    assert (y == y[:, :1]).all()  # one keep/drop decision per row


def test_flatten_reshape_activation_layers():
    x = tf.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    assert Flatten().apply(x).shape == [2, 12]
    np.testing.assert_array_equal(
        Reshape(target_shape=[4, -1]).apply(x).numpy(), np.arange(24).reshape(2, 4, 3)
    )
    np.testing.assert_allclose(
        Activation(activation="tanh").apply(x).numpy(),
        np.tanh(np.arange(24).reshape(2, 3, 4)),
        rtol=1e-5,
    )
    with pytest.raises(ValueError, match="total size of new array must be unchanged"):
        sequential(layers=[Reshape(target_shape=[5], input_shape=[3, 4])])
    with pytest.raises(ValueError, match="expected min_ndim=3, found ndim=2"):
        sequential(layers=[Flatten(input_shape=[4])])


# -- sequential structure ------------------------------------------------------------------


def test_first_layer_needs_input_shape():
    msg = "The first layer in a Sequential model must get an `inputShape` or `batchInputShape`"
    with pytest.raises(ValueError, match=msg):
        sequential(layers=[Dense(units=3)])


def test_shapes_checked_when_layers_connect():
    model = sequential(layers=[Dense(units=8, input_shape=[4])])
    with pytest.raises(ValueError, match="declares input shape \\[null,5\\].*outputs \\[null,8\\]"):
        model.add(Dense(units=2, input_shape=[5]))
    built = Dense(units=2)
    sequential(layers=[Dense(units=3, input_shape=[4]), built])
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        model.add(built)
    assert len(model.layers) == 1  # failed adds left the model unchanged
    with pytest.raises(TypeError, match="expects a Layer"):
        model.add("dense")


def test_get_layer_pop_and_shapes():
    model = guide_model()
    assert model.get_layer("dense_Dense2").units == 10
    assert model.get_layer(index=0).name == "dense_Dense1"
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="only has 2 layer"):
        model.get_layer(index=5)
    assert model.input_shape == [None, 784] and model.output_shape == [None, 10]
    assert model.pop().name == "dense_Dense2"
    assert model.output_shape == [None, 32] and model.count_params() == 25120


def test_model_call_checks_input_shape():
    model = guide_model()
    msg = r"expected dense_Dense1_input to have shape \[null,784\] but got array with shape \[3,5\]"
    with pytest.raises(ValueError, match=msg):
        model.call(tf.tensor(np.zeros([3, 5], np.float32)))


def test_camel_case_aliases_on_models_and_layers():
    model = guide_model()
    assert model.countParams() == 25450
    assert [w.name for w in model.trainableWeights] == [w.name for w in model.weights]
    assert model.getLayer("dense_Dense1").countParams() == 25120
    assert callable(Sequential.fitDataset) and callable(Sequential.predictOnBatch)


def test_regularization_losses_collected():
    layer = Dense(units=2, input_shape=[3], kernel_regularizer=regularizers.l2({"l2": 0.5}))
    model = sequential(layers=[layer])
    model.set_weights([_W, np.zeros(2, np.float32)])
    total = model.regularization_loss()
    assert float(total.numpy()) == pytest.approx(0.5 * (_W**2).sum(), rel=1e-5)
    assert guide_model().regularization_loss() is None
