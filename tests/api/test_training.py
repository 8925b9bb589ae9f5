"""compile / fit / evaluate / predict against numpy references and TF.js 4.22 fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import clflow as tf
import numpy as np
import pytest
from clflow import metrics, training

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "tfjs"
FIT = json.loads((FIX / "fit.json").read_text())
EPS = 1e-7


def guide_model():
    """The guide's model with TF.js's fixed weight formula (fit.json's 'weights')."""
    model = tf.sequential({"layers": [
        tf.layers.dense({"inputShape": [784], "units": 32, "activation": "relu"}),
        tf.layers.dense({"units": 10, "activation": "softmax"}),
    ]})  # fmt: skip
    for k, w in enumerate(model.weights):
        i = np.arange(int(np.prod(w.shape)))
        w.val.assign(tf.tensor((np.sin(i * 0.37 + k) * 0.1).astype(np.float32).reshape(w.shape)))
    return model


def guide_data():
    i, j = np.arange(100)[:, None], np.arange(784)[None]
    x = np.cos(j * 0.1 * (i % 10 + 1) + i * 0.01).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[np.arange(100) % 10]
    return x, y


def compiled_guide(optimizer="sgd"):
    m = guide_model()
    m.compile({"optimizer": optimizer, "loss": "categoricalCrossentropy", "metrics": ["accuracy"]})
    return m


def weights_of(model):
    return [w.numpy().copy() for w in model.weights]


# -- numpy reference: one dense layer, float64, gradients by central differences -------------


def np_forward(params, x, act):
    z = x @ params[0] + params[1]
    if act == "softmax":
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    if act == "sigmoid":
        return 1 / (1 + np.exp(-z))
    return z


def np_loss(name, y, p):
    if name == "meanSquaredError":
        return ((y - p) ** 2).mean(-1)
    if name == "categoricalCrossentropy":
        q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
        return -(y * np.log(q)).sum(-1)
    if name == "sparseCategoricalCrossentropy":
        q = np.clip(p, EPS, 1 - EPS)
        return -np.log(q[np.arange(len(y)), y.reshape(-1).astype(int)])
    if name == "binaryCrossentropy":
        q = np.clip(p, EPS, 1 - EPS)
        return -(y * np.log(q) + (1 - y) * np.log(1 - q)).mean(-1)
    raise KeyError(name)


def np_grads(params, x, y, act, loss, w=None):
    def f(ps):
        per = np_loss(loss, y, np_forward(ps, x, act))
        return (per * (1 if w is None else w)).mean()

    grads = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            hi = [q.copy() for q in params]
            lo = [q.copy() for q in params]
            hi[k][idx] += 1e-6
            lo[k][idx] -= 1e-6
            g[idx] = (f(hi) - f(lo)) / 2e-6
        grads.append(g)
    return f(params), grads


class NpOptimizer:
    """TF.js's update rules (tfjs-core optimizers), float64."""

    def __init__(self, name, params, lr=None):
        self.name, self.t, self.lr = name, 0, lr
        self.s = [dict() for _ in params]

    def step(self, params, grads):
        self.t += 1
        t = self.t
        for p, g, s in zip(params, grads, self.s, strict=True):
            if self.name == "sgd":
                p -= (self.lr or 0.01) * g
            elif self.name == "adagrad":
                s["a"] = s.get("a", np.full_like(p, 0.1)) + g * g
                p -= 0.01 * g / np.sqrt(s["a"] + EPS)
            elif self.name == "adam":
                s["m"] = 0.9 * s.get("m", 0 * p) + 0.1 * g
                s["v"] = 0.999 * s.get("v", 0 * p) + 0.001 * g * g
                mh, vh = s["m"] / (1 - 0.9**t), s["v"] / (1 - 0.999**t)
                p -= 0.001 * mh / (np.sqrt(vh) + EPS)
            elif self.name == "adamax":
                s["m"] = 0.9 * s.get("m", 0 * p) + 0.1 * g
                s["u"] = np.maximum(0.999 * s.get("u", 0 * p), np.abs(g))
                p -= 0.002 / (1 - 0.9**t) * s["m"] / (s["u"] + EPS)
            elif self.name == "rmsprop":
                s["ms"] = 0.9 * s.get("ms", 0 * p) + 0.1 * g * g
                p -= 0.001 * g / np.sqrt(s["ms"] + EPS)
            elif self.name == "adadelta":
                old = s.get("ag", 0 * p)  # TF.js divides by the accumulator before this step
                s["ag"] = 0.95 * old + 0.05 * g * g
                upd = np.sqrt(s.get("au", 0 * p) + EPS) / np.sqrt(old + EPS) * g
                s["au"] = 0.95 * s.get("au", 0 * p) + 0.05 * upd * upd
                p -= 1.0 * upd


def np_fit(params, x, y, act, loss, optimizer, epochs, batch_size, w=None, lr=None):
    """Epoch losses of the same training, batch-size weighted as TF.js, plus final params."""
    params = [p.astype(np.float64).copy() for p in params]
    opt = NpOptimizer(optimizer, params, lr)
    history = []
    for _ in range(epochs):
        total = 0.0
        for s in range(0, len(x), batch_size):
            sl = slice(s, s + batch_size)
            value, grads = np_grads(params, x[sl], y[sl], act, loss, None if w is None else w[sl])
            opt.step(params, grads)
            total += value * len(x[sl])
        history.append(total / len(x))
    return history, params


def small_problem(loss, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(10, 4)).astype(np.float32)
    if loss == "meanSquaredError":
        act, y = "linear", rng.normal(size=(10, 3)).astype(np.float32)
    elif loss == "binaryCrossentropy":
        act, y = "sigmoid", (rng.random((10, 3)) > 0.5).astype(np.float32)
    elif loss == "sparseCategoricalCrossentropy":
        act, y = "softmax", rng.integers(0, 3, (10, 1)).astype(np.float32)
    else:
        act, y = "softmax", np.eye(3, dtype=np.float32)[rng.integers(0, 3, 10)]
    params = [rng.normal(size=(4, 3)).astype(np.float32) * 0.5,
              rng.normal(size=3).astype(np.float32) * 0.1]  # fmt: skip
    return x, y, act, params


def dense_model(act, params):
    m = tf.sequential({"layers": [tf.layers.dense({"inputShape": [4], "units": 3,
                                                   "activation": act})]})  # fmt: skip
    m.set_weights(params)
    return m


@pytest.mark.parametrize(
    "loss",
    ["meanSquaredError", "binaryCrossentropy", "sparseCategoricalCrossentropy",
     "categoricalCrossentropy"],
)  # fmt: skip
def test_fit_matches_numpy_for_each_loss(loss):
    x, y, act, params = small_problem(loss)
    m = dense_model(act, params)
    m.compile(optimizer=tf.train.sgd(0.5), loss=loss)
    h = m.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    ref_hist, ref_params = np_fit(params, x, y, act, loss, "sgd", 3, 4, lr=0.5)
    np.testing.assert_allclose(h.history["loss"], ref_hist, rtol=1e-4, atol=1e-5)
    for got, want in zip(weights_of(m), ref_params, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name", ["sgd", "adam", "adagrad", "rmsprop", "adadelta", "adamax"])
def test_fit_with_each_optimizer_string_matches_numpy(name):
    if not hasattr(tf.train, name):
        pytest.skip(f"tf.train.{name} is not implemented yet")
    x, y, act, params = small_problem("categoricalCrossentropy", seed=1)
    m = dense_model(act, params)
    m.compile(optimizer=name, loss="categoricalCrossentropy")
    h = m.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    ref_hist, ref_params = np_fit(params, x, y, act, "categoricalCrossentropy", name, 3, 4)
    np.testing.assert_allclose(h.history["loss"], ref_hist, rtol=1e-4, atol=1e-5)
    for got, want in zip(weights_of(m), ref_params, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def test_sample_and_class_weights_scale_the_loss():
    x, y, act, params = small_problem("categoricalCrossentropy", seed=2)
    sw = np.linspace(0.5, 2.0, 10).astype(np.float32)
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    w = sw * np.array([cw[c] for c in y.argmax(-1)], np.float32)
    m = dense_model(act, params)
    m.compile(optimizer="sgd", loss="categoricalCrossentropy")
    h = m.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0, sample_weight=sw,
              class_weight=cw)  # fmt: skip
    ref_hist, ref_params = np_fit(params, x, y, act, "categoricalCrossentropy", "sgd", 2, 4, w)
    np.testing.assert_allclose(h.history["loss"], ref_hist, rtol=1e-4, atol=1e-6)
    for got, want in zip(weights_of(m), ref_params, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


# -- TF.js fixtures ----------------------------------------------------------------------------


def recorder():
    events = []
    hooks = ["onTrainBegin", "onEpochBegin", "onBatchBegin", "onBatchEnd", "onEpochEnd",
             "onTrainEnd"]  # fmt: skip

    def make(name):
        def hook(*args):
            event = {"event": name}
            if name in ("onEpochBegin", "onEpochEnd"):
                event["epoch"] = args[0]
            elif name in ("onBatchBegin", "onBatchEnd"):
                event["batch"] = args[0]
            event["logs"] = dict(args[-1])
            events.append(event)

        return hook

    return events, {h: make(h) for h in hooks}


def assert_events(got, want):
    assert [e["event"] for e in got] == [e["event"] for e in want]
    for g, w in zip(got, want, strict=True):
        assert g.get("epoch") == w.get("epoch") and g.get("batch") == w.get("batch")
        assert list(g["logs"]) == list(w["logs"])  # same keys in the same order
        for k, v in w["logs"].items():
            assert g["logs"][k] == pytest.approx(v, rel=1e-5, abs=1e-6), (w, g)


@pytest.mark.parametrize("run", [0, 1, 2, 3])
def test_fit_matches_tfjs_fixture(run):
    spec = FIT["runs"][run]
    x, y = guide_data()
    if spec["labels"] == "yUnif":
        i, j = np.arange(100)[:, None], np.arange(10)[None]
        v = np.sin(i * 12.9898 + j * 78.233) * 43758.5453
        y = (v - np.floor(v)).astype(np.float32)
    args = {to: spec["fit_args"][k] for k, to in [("epochs", "epochs"), ("batchSize", "batch_size"),
            ("shuffle", "shuffle"), ("validationSplit", "validation_split")]
            if k in spec["fit_args"]}  # fmt: skip
    if "validationData" in spec["fit_args"]:
        args["validation_data"] = [x[80:], y[80:]]
    m = compiled_guide()
    before = m.predict(x[:3]).numpy()
    np.testing.assert_allclose(before.ravel(), spec["predict_rows_0_2_before_training"]["values"],
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    events, hooks = recorder()
    h = m.fit(x, y, verbose=0, callbacks=hooks, **args)
    assert_events(events, spec["events"])
    assert list(h.history) == spec["history_key_order"]
    for k, v in spec["history"].items():
        np.testing.assert_allclose(h.history[k], v, rtol=1e-5)
    assert h.epoch == spec["epoch"]
    assert h.params == {**spec["params"], "verbose": 0}
    assert m.metrics_names == spec["metricsNames"]
    got = m.predict(x[:3]).numpy().ravel()
    np.testing.assert_allclose(got, spec["predict_rows_0_2"]["values"], rtol=1e-5, atol=1e-6)
    loss, acc = m.evaluate(x, y)
    np.testing.assert_allclose([float(loss), float(acc)], spec["evaluate_after"], rtol=1e-5)


def test_fit_dataset_matches_tfjs_fixture():
    spec = FIT["runs"][4]
    x, y = guide_data()
    ds = tf.data.zip({"xs": tf.data.array(list(x)), "ys": tf.data.array(list(y))}).batch(32)
    m = compiled_guide()
    events, hooks = recorder()
    h = m.fit_dataset(ds, epochs=2, verbose=0, callbacks={k: hooks[k] for k in
                                                         ("onBatchEnd", "onEpochEnd")})  # fmt: skip
    assert_events(events, spec["events"])
    for k, v in spec["history"].items():
        np.testing.assert_allclose(h.history[k], v, rtol=1e-5)
    got = m.predict(x[:3]).numpy().ravel()
    np.testing.assert_allclose(got, spec["predict_rows_0_2"]["values"], rtol=1e-5, atol=1e-6)


def test_fit_dataset_with_validation_and_tuple_elements():
    x, y = guide_data()
    ds = tf.data.zip([tf.data.array(list(x[:80])), tf.data.array(list(y[:80]))]).batch(32)
    m = compiled_guide()
    h = m.fit_dataset(ds, epochs=1, verbose=0, validation_data=[x[80:], y[80:]])
    loss, acc = m.evaluate(x[80:], y[80:])
    assert h.history["val_loss"][0] == pytest.approx(float(loss), rel=1e-5)
    assert h.history["val_acc"][0] == pytest.approx(float(acc), rel=1e-5)
    bad = tf.data.zip({"a": tf.data.array(list(x)), "b": tf.data.array(list(y))}).batch(32)
    with pytest.raises(TypeError, match=r"\{'xs': x_batch, 'ys': y_batch\}.*keys \['a', 'b'\]"):
        m.fit_dataset(bad, epochs=1, verbose=0)


def test_metrics_match_tfjs_fixture():
    data = json.loads((FIX / "losses.json").read_text())
    inp = {k: np.array(v, np.float32) for k, v in data["inputs"].items()}
    fns = {"categoricalCrossentropy": metrics.categorical_crossentropy,
           "binaryCrossentropy": metrics.binary_crossentropy,
           "categoricalAccuracy": metrics.categorical_accuracy,
           "binaryAccuracy": metrics.binary_accuracy,
           "sparseCategoricalAccuracy": metrics.sparse_categorical_accuracy,
           "meanSquaredError": metrics.mean_squared_error,
           "meanAbsoluteError": metrics.mean_absolute_error,
           "meanAbsolutePercentageError": metrics.mean_absolute_percentage_error,
           "cosineProximity": metrics.cosine_proximity, "precision": metrics.precision,
           "recall": metrics.recall}  # fmt: skip
    special = {"onehot-as-pred (clipping)": inp["labelsOneHot"],
               "binLabels (clipping)": inp["binLabels"],
               "[[0.5,...]] threshold edge": np.full((4, 3), 0.5, np.float32),
               "sparseLabels 1-D": np.array([0, 1, 2, 1], np.float32),
               "binPreds": (inp["probs"] > 0.3).astype(np.float32)}  # fmt: skip
    checked = 0
    for key, want in data["metrics"].items():
        name, args = key.split("(", 1)
        a, b = (s.strip() for s in args[:-1].split(",", 1))
        if name not in fns or (b == "binPreds" and name in ("precision", "recall")):
            continue
        got = fns[name](special.get(a, inp.get(a)), special.get(b, inp.get(b))).numpy()
        np.testing.assert_allclose(got.ravel(), want["values"], rtol=1e-5, atol=1e-6, err_msg=key)
        checked += 1
    assert checked >= 15


def test_accuracy_resolves_by_loss_and_output_width():
    binary = metrics.resolve_metric("accuracy", metrics.mean_squared_error, [None, 1])
    assert binary == ("acc", metrics.binary_accuracy)
    bce = metrics.resolve_metric("acc", metrics.binary_crossentropy, [None, 4])
    assert bce == ("acc", metrics.binary_accuracy)
    sparse = metrics.resolve_metric("accuracy", metrics.sparse_categorical_crossentropy, [None, 4])
    assert sparse == ("acc", metrics.sparse_categorical_accuracy)
    cat = metrics.resolve_metric("accuracy", metrics.categorical_crossentropy, [None, 4])
    assert cat == ("acc", metrics.categorical_accuracy)
    assert metrics.resolve_metric("mse", None, [None, 4]) == ("mse", metrics.mean_squared_error)
    assert metrics.get_loss("categorical_crossentropy") is metrics.categorical_crossentropy
    assert metrics.get_loss("mae") is metrics.mean_absolute_error


def test_sparse_labels_and_accuracy_in_fit():
    x, y, act, params = small_problem("sparseCategoricalCrossentropy", seed=3)
    m = dense_model(act, params)
    m.compile(optimizer="sgd", loss="sparseCategoricalCrossentropy", metrics=["accuracy"])
    h = m.fit(x, y.reshape(-1), epochs=1, batch_size=10, shuffle=False, verbose=0)
    p = np_forward([q.astype(np.float64) for q in params], x, act)
    assert h.history["acc"][0] == pytest.approx((p.argmax(-1) == y.reshape(-1)).mean())


# -- evaluate / predict / train_on_batch -------------------------------------------------------


def test_evaluate_predict_and_train_on_batch_match_numpy():
    x, y, act, params = small_problem("categoricalCrossentropy", seed=4)
    x = np.concatenate([x] * 7)  # 70 rows: batches 32, 32, 6
    y = np.concatenate([y] * 7)
    m = dense_model(act, params)
    m.compile(optimizer=tf.train.sgd(0.5), loss="categoricalCrossentropy",
              metrics=["accuracy", "mse"])  # fmt: skip
    p = np_forward([q.astype(np.float64) for q in params], x, act)
    np.testing.assert_allclose(m.predict(x).numpy(), p, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(m.predict_on_batch(x[:5]).numpy(), p[:5], rtol=1e-4, atol=1e-6)
    loss, acc, mse = m.evaluate(x, y, batch_size=32)
    assert float(loss) == pytest.approx(np_loss("categoricalCrossentropy", y, p).mean(), rel=1e-4)
    assert float(acc) == pytest.approx((p.argmax(-1) == y.argmax(-1)).mean(), rel=1e-6)
    assert float(mse) == pytest.approx(((p - y) ** 2).mean(), rel=1e-4)
    value, grads = np_grads([q.astype(np.float64) for q in params], x[:8], y[:8], act,
                            "categoricalCrossentropy")  # fmt: skip
    out = m.train_on_batch(x[:8], y[:8])
    assert out[0] == pytest.approx(value, rel=1e-4)
    for got, q, g in zip(weights_of(m), params, grads, strict=True):
        np.testing.assert_allclose(got, q - 0.5 * g, rtol=1e-3, atol=1e-5)


def test_validation_split_takes_the_last_rows_before_shuffling():
    x, y = guide_data()
    m = compiled_guide()
    tf.set_seed(7)
    h = m.fit(x, y, epochs=1, batch_size=16, validation_split=0.3, verbose=0)
    assert h.params["samples"] == 70 and h.params["doValidation"]
    loss, acc = m.evaluate(x[70:], y[70:])
    assert h.history["val_loss"][0] == pytest.approx(float(loss), rel=1e-5)
    assert h.history["val_acc"][0] == pytest.approx(float(acc), rel=1e-5)
    # the train loss is an average over the first 70 rows only (shuffled): its batch sizes
    sizes = []
    m.fit(x, y, epochs=1, batch_size=32, validation_split=0.3, verbose=0,
          callbacks={"on_batch_end": lambda b, logs: sizes.append(logs["size"])})  # fmt: skip
    assert sizes == [32, 32, 6]


# -- bad input ---------------------------------------------------------------------------------


def _raises_and_keeps_weights(model, exc, match, fn):
    before = weights_of(model)
    with pytest.raises(exc, match=match):
        fn()
    for a, b in zip(before, weights_of(model), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_inputs_raise_before_training():
    x, y = guide_data()
    m = guide_model()
    _raises_and_keeps_weights(m, RuntimeError, "The model needs to be compiled before being used",
                              lambda: m.fit(x, y, verbose=0))  # fmt: skip
    m = compiled_guide()
    cases = [
        (ValueError, r"^Input Tensors should have the same number of samples as target Tensors\. "
         r"Found 100 input sample\(s\) and 90 target sample\(s\)\.$", lambda: m.fit(x, y[:90])),
        (ValueError, r"^input expected a batch of elements where each example has shape \[784\] "
         r"\(i\.e\.,tensor shape \[\*,784\]\) but the input received an input with 100 examples, "
         r"each with shape \[5\] \(tensor shape \[100,5\]\)$", lambda: m.fit(x[:, :5], y)),
        (ValueError, r"^target expected a batch of elements where each example has shape \[10\]",
         lambda: m.fit(x, y[:, :3])),
        (ValueError, r"^batchSize is required to be a positive integer, but got 0$",
         lambda: m.fit(x, y, batch_size=0)),
        (ValueError, r"but got -1$", lambda: m.fit(x, y, batch_size=-1)),
        (ValueError, r"but got 2\.5$", lambda: m.fit(x, y, batch_size=2.5)),
        (ValueError, r"validation_split must be in \[0, 1\), got 1\.5",
         lambda: m.fit(x, y, validation_split=1.5)),
        (ValueError, r"validation_split must be in \[0, 1\), got 1\.0",
         lambda: m.fit(x, y, validation_split=1.0)),
        (ValueError, "leaves no training sample",
         lambda: m.fit(x[:1], y[:1], validation_split=0.5)),
        (TypeError, "validation_data must be", lambda: m.fit(x, y, validation_data=x)),
        (TypeError, r"unknown option 'batchSise'; did you mean 'batchSize'",
         lambda: m.fit(x, y, {"batchSise": 3})),
    ]  # fmt: skip
    for exc, match, fn in cases:
        _raises_and_keeps_weights(m, exc, match, fn)
    m1 = tf.sequential({"layers": [tf.layers.dense({"inputShape": [4], "units": 1,
                                                    "activation": "sigmoid"})]})  # fmt: skip
    m1.compile({"optimizer": "sgd", "loss": "categoricalCrossentropy"})
    _raises_and_keeps_weights(
        m1,
        ValueError,
        r"^You are passing a target array of shape 8,1 while using a loss "
        r"'categorical_crossentropy'\.",
        lambda: m1.fit(np.ones((8, 4)), np.ones((8, 1))),
    )
    with pytest.raises(ValueError, match=r"Error when checking : expected .*_input to have "
                       r"shape \[null,784\] but got array with shape \[3,5\]\."):  # fmt: skip
        m.predict(np.ones((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"but got array with shape \[784,1\]\."):
        m.predict(np.ones(784, np.float32))


def test_unknown_names_raise_tfjs_messages_with_hints():
    m = guide_model()
    with pytest.raises(ValueError, match=r"^Unknown loss fooLoss\..*Valid loss names: "):
        m.compile(optimizer="sgd", loss="fooLoss")
    with pytest.raises(ValueError, match=r"Did you mean 'categoricalCrossentropy'"):
        m.compile(optimizer="sgd", loss="categoricalCrossentrop")
    with pytest.raises(
        ValueError, match=r"^Unknown Optimizer fooOpt\..*Valid optimizer names: sgd"
    ):
        m.compile(optimizer="fooOpt", loss="mse")
    with pytest.raises(ValueError, match=r"^Unknown metric fooMetric\..*accuracy"):
        m.compile(optimizer="sgd", loss="mse", metrics=["fooMetric"])
    with pytest.raises(ValueError, match=r"Did you mean 'binaryAccuracy'"):
        m.compile(optimizer="sgd", loss="mse", metrics=["binaryAcuracy"])
    assert not m.is_compiled


def test_compile_string_optimizers_use_tfjs_learning_rates():
    for name, lr in training.OPTIMIZERS.values():
        if not hasattr(tf.train, name):
            continue
        m = guide_model()
        m.compile(optimizer=name, loss="categoricalCrossentropy")
        assert m.optimizer.learning_rate == pytest.approx(lr)
    m = compiled_guide()
    cfg = json.loads((FIX / "model_json" / "model.json").read_text())["trainingConfig"]
    assert training.get_training_config(m) == cfg
