"""tf.losses: TF.js's reference values, numpy formulas, gradients and errors."""

from __future__ import annotations

import json
from pathlib import Path

import clflow as tf
import numpy as np
import pytest
from clflow.losses import Reduction

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "tfjs" / "losses.json").read_text())
INPUTS = FIXTURE["inputs"]
L = tf.losses


def T(key: str) -> tf.Tensor:
    return tf.tensor(INPUTS[key])


def _w41(w):
    return None if w is None else w.reshape([4, 1])


CALLS = {
    "softmaxCrossEntropy(labelsOneHot, logits)": lambda w, r: L.softmax_cross_entropy(
        T("labelsOneHot"), T("logits"), w, 0, r
    ),
    "softmaxCrossEntropy(labelsOneHot, logits, labelSmoothing=0.1)": lambda w, r: (
        L.softmax_cross_entropy(T("labelsOneHot"), T("logits"), w, 0.1, r)
    ),
    "softmaxCrossEntropy(labelsUnnorm, logits)": lambda w, r: L.softmax_cross_entropy(
        T("labelsUnnorm"), T("logits"), w, 0, r
    ),
    "sigmoidCrossEntropy(binLabels, logits)": lambda w, r: L.sigmoid_cross_entropy(
        T("binLabels"), T("logits"), w, 0, r
    ),
    "sigmoidCrossEntropy(binLabels, logits, labelSmoothing=0.1)": lambda w, r: (
        L.sigmoid_cross_entropy(T("binLabels"), T("logits"), w, 0.1, r)
    ),
    "meanSquaredError(regLabels, regPreds)": lambda w, r: L.mean_squared_error(
        T("regLabels"), T("regPreds"), w, r
    ),
    "absoluteDifference(regLabels, regPreds)": lambda w, r: L.absolute_difference(
        T("regLabels"), T("regPreds"), w, r
    ),
    "hingeLoss(binLabels, logits)": lambda w, r: L.hinge_loss(T("binLabels"), T("logits"), w, r),
    "huberLoss(regLabels, regPreds, delta=1)": lambda w, r: L.huber_loss(
        T("regLabels"), T("regPreds"), w, 1.0, r
    ),
    "huberLoss(regLabels, regPreds, delta=0.5)": lambda w, r: L.huber_loss(
        T("regLabels"), T("regPreds"), w, 0.5, r
    ),
    "logLoss(binLabels, probs)": lambda w, r: L.log_loss(T("binLabels"), T("probs"), w, 1e-7, r),
    "cosineDistance(cosL, cosP, axis=1)": lambda w, r: L.cosine_distance(
        T("cosL"), T("cosP"), 1, w, r
    ),
    "computeWeightedLoss(regPreds)": lambda w, r: L.compute_weighted_loss(T("regPreds"), w, r),
    "softmaxCrossEntropy(labelsOneHot, logits) weights [4,1]": lambda w, r: L.softmax_cross_entropy(
        T("labelsOneHot"), T("logits"), _w41(w), 0, r
    ),
    "cosineDistance(cosL, cosP, axis=1) weights [4,1]": lambda w, r: L.cosine_distance(
        T("cosL"), T("cosP"), 1, _w41(w), r
    ),
}


def _case_id(c: dict) -> str:
    return f"{c['loss']}|{c['weights']}|{c['reduction']}"


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=_case_id)
def test_matches_tfjs(case):
    w = case["weights"]
    weights = None if w is None else (2.0 if w == "scalar 2.0" else T(w))
    call = CALLS[case["loss"]]
    if "error" in case:  # weights that do not broadcast: a clear error naming both shapes
        with pytest.raises(ValueError, match=r"weights of shape \[.*\] do not broadcast"):
            call(weights, Reduction.SUM)
        return
    red = case["reduction"]
    out = call(weights, Reduction[red]) if red != "default" else _default(case, weights)
    assert out.shape == case["shape"]
    np.testing.assert_allclose(
        out.numpy().reshape(-1), np.float32(case["values"]), rtol=1e-5, atol=1e-6
    )


def _default(case: dict, weights):
    """Call with the reduction argument omitted (TF.js's default)."""
    if case["loss"] == "meanSquaredError(regLabels, regPreds)":
        return L.mean_squared_error(T("regLabels"), T("regPreds"), weights)
    return CALLS[case["loss"]](weights, Reduction.SUM_BY_NONZERO_WEIGHTS)


# --- numpy formulas on random data --------------------------------------------------------------
def np_reduce(losses, weights, red):
    wl = losses if weights is None else losses * weights
    if red == Reduction.NONE:
        return wl
    if red == Reduction.SUM:
        return wl.sum()
    if weights is None:
        return wl.sum() / losses.size
    if red == Reduction.MEAN:
        factor = losses.size / np.size(weights)
        return wl.sum() / np.sum(weights) / (factor if factor > 1 else 1)
    return wl.sum() / np.count_nonzero(np.broadcast_to(weights, wl.shape))


def np_log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


RNG = np.random.default_rng(3)
Y = RNG.uniform(0, 1, (5, 4))
P = RNG.uniform(0.05, 0.95, (5, 4))
X = RNG.normal(0, 3, (5, 4))
Z = (Y > 0.5).astype(np.float64)
ONEHOT = np.eye(4)[RNG.integers(0, 4, 5)]
UNIT_Y = Y / np.linalg.norm(Y, axis=1, keepdims=True)
UNIT_P = P / np.linalg.norm(P, axis=1, keepdims=True)

NP_LOSSES = {
    "softmax_cross_entropy": (
        lambda w, r: L.softmax_cross_entropy(ONEHOT * 0.7 + 0.1, X, w, 0.2, r),
        lambda: -(((ONEHOT * 0.7 + 0.1) * 0.8 + 0.05) * np_log_softmax(X)).sum(-1),
        (5,),
    ),
    "sigmoid_cross_entropy": (
        lambda w, r: L.sigmoid_cross_entropy(Y, X, w, 0.3, r),
        lambda: (lambda z: np.maximum(X, 0) - X * z + np.log1p(np.exp(-np.abs(X))))(Y * 0.7 + 0.15),
        (5, 4),
    ),
    "mean_squared_error": (
        lambda w, r: L.mean_squared_error(Y, P, w, r),
        lambda: (Y - P) ** 2,
        (5, 4),
    ),
    "absolute_difference": (
        lambda w, r: L.absolute_difference(Y, P, w, r),
        lambda: np.abs(Y - P),
        (5, 4),
    ),
    "hinge_loss": (
        lambda w, r: L.hinge_loss(Y > 0.5, X, w, r),
        lambda: np.maximum(0, 1 - (2 * (Y > 0.5) - 1) * X),
        (5, 4),
    ),
    "huber_loss": (
        lambda w, r: L.huber_loss(Y * 4, X, w, 1.5, r),
        lambda: np.where(
            np.abs(X - Y * 4) <= 1.5, 0.5 * (X - Y * 4) ** 2, 1.5 * np.abs(X - Y * 4) - 0.5 * 1.5**2
        ),
        (5, 4),
    ),
    "log_loss": (
        lambda w, r: L.log_loss(Y > 0.5, P, w, 1e-4, r),
        lambda: -Z * np.log(P + 1e-4) - (1 - Z) * np.log(1 - P + 1e-4),
        (5, 4),
    ),
    "cosine_distance": (
        lambda w, r: L.cosine_distance(UNIT_Y, UNIT_P, 1, w, r),
        lambda: 1 - (UNIT_Y * UNIT_P).sum(1, keepdims=True),
        (5, 1),
    ),
}
WEIGHTS = {"none": None, "per_example": np.array([1.0, 0.0, 2.0, 0.5, 3.0]), "scalar": 2.5}


@pytest.mark.parametrize("red", list(Reduction), ids=lambda r: r.name)
@pytest.mark.parametrize("name", list(NP_LOSSES))
@pytest.mark.parametrize("wkey", list(WEIGHTS))
def test_matches_numpy_formula(name, red, wkey):
    call, ref, shape = NP_LOSSES[name]
    w = WEIGHTS[wkey]
    if isinstance(w, np.ndarray):  # per example: [5] for [5] losses, else [5, 1]
        w = w if len(shape) == 1 else w.reshape(5, 1)
    got = call(w, red).numpy()
    want = np_reduce(ref(), w, red)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


# --- gradients ---------------------------------------------------------------------------------
def _fixture_grad(key: str) -> np.ndarray:
    g = FIXTURE["grads"][key]
    return np.float32(g["values"]).reshape(g["shape"])


def _closed_form_sce_grad(labels, logits, scale):
    s = np.exp(np_log_softmax(logits))
    return (s * labels.sum(-1, keepdims=True) - labels) * scale


def test_softmax_cross_entropy_grad_one_hot_matches_tfjs():
    g = tf.grad(lambda lg: L.softmax_cross_entropy(T("labelsOneHot"), lg))(T("logits"))
    want = _fixture_grad("d softmaxCrossEntropy(labelsOneHot, logits)/d logits (default reduction)")
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-5, atol=1e-6)
    closed = _closed_form_sce_grad(
        np.array(INPUTS["labelsOneHot"], float), np.array(INPUTS["logits"]), 0.25
    )
    np.testing.assert_allclose(g.numpy(), closed, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "red,scale", [(Reduction.SUM_BY_NONZERO_WEIGHTS, 0.25), (Reduction.SUM, 1.0)]
)
def test_softmax_cross_entropy_grad_unnormalised_labels_is_exact(red, scale):
    # TF.js's custom gradient is softmax - labels even when labels do not sum to one (its
    # fixture grads for labelsUnnorm show that); the true derivative scales the softmax term
    # by sum(labels). clflow returns the true derivative.
    labels = np.array(INPUTS["labelsUnnorm"])
    g = tf.grad(lambda lg: L.softmax_cross_entropy(labels, lg, None, 0, red))(T("logits"))
    closed = _closed_form_sce_grad(labels, np.array(INPUTS["logits"]), scale)
    np.testing.assert_allclose(g.numpy(), closed, rtol=1e-5, atol=1e-6)
    tfjs = _fixture_grad("d softmaxCrossEntropy(labelsUnnorm, logits)/d logits (default reduction)")
    assert not np.allclose(g.numpy() * 0.25 / scale, tfjs, atol=1e-3)


def test_softmax_cross_entropy_grad_weighted_matches_finite_differences():
    w = np.array([1.0, 0.0, 2.0, 0.5])
    labels = np.array(INPUTS["labelsUnnorm"])
    logits = np.array(INPUTS["logits"])
    g = tf.grad(lambda lg: L.softmax_cross_entropy(labels, lg, w, 0, Reduction.MEAN))(logits)

    def f(lg):
        return np.sum(-(labels * np_log_softmax(lg)).sum(-1) * w) / w.sum()

    np.testing.assert_allclose(g.numpy(), numeric_grad(f, logits), rtol=1e-4, atol=1e-5)


def test_sigmoid_cross_entropy_grad_matches_tfjs_including_zero_logit():
    g = tf.grad(lambda lg: L.sigmoid_cross_entropy(T("binLabels"), lg))(T("logits"))
    want = _fixture_grad("d sigmoidCrossEntropy(binLabels, logits)/d logits (default reduction)")
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-5, atol=1e-6)
    x, z = np.array(INPUTS["logits"]), np.array(INPUTS["binLabels"], float)
    np.testing.assert_allclose(g.numpy(), (1 / (1 + np.exp(-x)) - z) / 12, rtol=1e-5, atol=1e-7)


def numeric_grad(f, x, h=1e-6):
    g = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x, dtype=np.float64)
        d[i] = h
        g[i] = (f(x + d) - f(x - d)) / (2 * h)
    return g


FD_CASES = {
    "mean_squared_error": lambda y, p: L.mean_squared_error(y, p),
    "absolute_difference": lambda y, p: L.absolute_difference(y, p, None, Reduction.SUM),
    "huber_loss": lambda y, p: L.huber_loss(y, p, None, 0.7),
    "log_loss": lambda y, p: L.log_loss(y > 0.5, p),
    "hinge_loss": lambda y, p: L.hinge_loss(y > 0.5, p, [[1.0], [2.0], [0.0], [1.0], [1.0]]),
    "cosine_distance": lambda y, p: L.cosine_distance(y, p, 1, None, Reduction.MEAN),
}


@pytest.mark.parametrize("name", list(FD_CASES))
def test_gradient_matches_finite_differences_of_numpy(name):
    y, p = Y.astype(np.float32), P.astype(np.float64)
    loss = FD_CASES[name]
    g = tf.grad(lambda pred: loss(y, pred))(p.astype(np.float32)).numpy()

    def f(pp):
        pred = pp
        yb = y.astype(np.float64)
        if name == "mean_squared_error":
            return np.mean((yb - pred) ** 2)
        if name == "absolute_difference":
            return np.sum(np.abs(yb - pred))
        if name == "huber_loss":
            e = np.abs(pred - yb)
            q = np.minimum(e, 0.7)
            return np.mean(0.5 * q**2 + 0.7 * (e - q))
        if name == "log_loss":
            z = (yb > 0.5) * 1.0
            return np.mean(-z * np.log(pred + 1e-7) - (1 - z) * np.log(1 - pred + 1e-7))
        if name == "hinge_loss":
            w = np.array([[1.0], [2.0], [0.0], [1.0], [1.0]])
            loss_ = np.maximum(0, 1 - (2 * (yb > 0.5) - 1) * pred) * w
            return loss_.sum() / np.count_nonzero(np.broadcast_to(w, loss_.shape))
        return np.mean(1 - (yb * pred).sum(1))

    np.testing.assert_allclose(g, numeric_grad(f, p), rtol=1e-3, atol=1e-5)


def test_large_logits_stay_finite():
    logits = np.array([[1000.0, -1000.0, 0.0], [-500.0, 500.0, 20.0]])
    labels = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    r = tf.value_and_grad(
        lambda lg: L.softmax_cross_entropy(labels, lg, None, 0, Reduction.NONE).sum()
    )(logits)
    np.testing.assert_allclose(r["value"].numpy(), 2000.0 + 1000.0, rtol=1e-6)
    assert np.all(np.isfinite(r["grad"].numpy()))
    r = tf.value_and_grad(lambda lg: L.sigmoid_cross_entropy(labels, lg, None, 0, Reduction.SUM))(
        logits
    )
    # Only the zero logit (label 0) adds log(2); the others are exactly |x| or 0.
    np.testing.assert_allclose(r["value"].numpy(), 3020 + np.log(2), rtol=1e-6)
    np.testing.assert_allclose(
        r["grad"].numpy(), 0.5 * (1 + np.tanh(logits / 2)) - labels, atol=1e-6
    )


# --- reductions and errors ----------------------------------------------------------------------
def test_reduction_enum_matches_tfjs():
    assert {r.name: r.value for r in Reduction} == FIXTURE["reduction_enum"]


@pytest.mark.parametrize("spelling", [1, Reduction.MEAN, "mean", "MEAN", np.int32(1)])
def test_reduction_accepts_ints_and_names(spelling):
    out = L.mean_squared_error([1.0, 2.0], [2.0, 4.0], None, spelling)
    np.testing.assert_allclose(out.numpy(), 2.5)


@pytest.mark.parametrize("bad", [4, -1, "average", 1.5, None, True])
def test_bad_reduction_is_rejected(bad):
    with pytest.raises(ValueError, match=r"unknown reduction .*Reduction\.NONE \(0\)"):
        L.mean_squared_error([1.0], [2.0], None, bad)


@pytest.mark.parametrize(
    "fn",
    [
        L.softmax_cross_entropy,
        L.sigmoid_cross_entropy,
        L.mean_squared_error,
        L.log_loss,
        L.hinge_loss,
    ],
)
def test_mismatched_shapes_name_both(fn):
    with pytest.raises(ValueError, match=r"shape \[4, 3\] and .* shape \[4, 2\] must match"):
        fn(tf.ones([4, 3]), tf.ones([4, 2]))


def test_camel_case_names_and_tfjs_message_shape():
    assert L.softmaxCrossEntropy is L.softmax_cross_entropy
    assert L.computeWeightedLoss is L.compute_weighted_loss
    with pytest.raises(ValueError, match="Error in softmaxCrossEntropy"):
        L.softmaxCrossEntropy(tf.ones([4, 3]), tf.ones([4, 2]))


def test_int_labels_are_cast():
    labels = np.array([[0, 1], [1, 0]], np.int32)
    out = L.softmax_cross_entropy(labels, [[0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(out.numpy(), np.log(2), rtol=1e-6)
