"""tf.train optimizers: TF.js's reference runs, numpy formulas, state, and errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import clflow as tf
import numpy as np
import pytest
from clflow.gradients import NO_CONNECTION

FIXTURE = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "tfjs" / "optimizers.json").read_text()
)
_names = itertools.count()

MAKERS = {
    "sgd(0.1)": lambda: tf.train.sgd(0.1),
    "momentum(0.1,0.9)": lambda: tf.train.momentum(0.1, 0.9),
    "momentum(0.1,0.9,true)": lambda: tf.train.momentum(0.1, 0.9, True),
    "adagrad(0.1)": lambda: tf.train.adagrad(0.1),
    "adadelta(1.0)": lambda: tf.train.adadelta(1.0),
    "adadelta()": lambda: tf.train.adadelta(),
    "adam(0.01)": lambda: tf.train.adam(0.01),
    "adam()": lambda: tf.train.adam(),
    "adamax(0.02)": lambda: tf.train.adamax(0.02),
    "adamax()": lambda: tf.train.adamax(),
    "rmsprop(0.01)": lambda: tf.train.rmsprop(0.01),
    "rmsprop(0.01,0.9,0.5)": lambda: tf.train.rmsprop(0.01, 0.9, 0.5),
    "rmsprop(0.01,0.9,0.0,1e-7,true)": lambda: tf.train.rmsprop(0.01, 0.9, 0.0, 1e-7, True),
}


def fresh_name(prefix: str = "opt_test") -> str:
    return f"{prefix}_{next(_names)}"


def quadratic(x: tf.Variable):
    """TF.js's fixture problem: f(x) = sum((x * c - t)^2)."""
    c, t = tf.tensor(FIXTURE["c"]), tf.tensor(FIXTURE["t"])
    return lambda: x.mul(c).sub(t).square().sum()


@pytest.mark.parametrize("run", FIXTURE["runs"], ids=lambda r: r["name"])
def test_matches_tfjs_over_five_steps(run):
    opt = MAKERS[run["name"]]()
    x = tf.variable(tf.tensor(FIXTURE["x0"]))
    f = quadratic(x)
    for step in run["steps"]:
        cost = opt.minimize(f, return_cost=True)
        np.testing.assert_allclose(float(cost), step["cost"], rtol=1e-5)
        np.testing.assert_allclose(x.numpy(), np.float32(step["x"]), rtol=1e-5, atol=1e-6)
    assert opt.iterations == run["iterations_after"]
    assert opt.get_class_name() == run["className"]
    assert opt.get_config() == pytest.approx(run["config"])


# --- numpy references of the same formulas (float64) ---------------------------------------
def np_update(name: str, cfg: dict, x, g, s: dict, t: int):
    """One step of optimizer ``name`` in numpy; ``s`` holds the slots and is updated."""
    lr, eps = cfg["learningRate"], cfg.get("epsilon", 1e-7)
    if name == "SGD":
        return x - lr * g
    if name == "Momentum":
        s["momentum"] = cfg["momentum"] * s.get("momentum", 0) + g
        step = g + cfg["momentum"] * s["momentum"] if cfg["useNesterov"] else s["momentum"]
        return x - lr * step
    if name == "Adagrad":
        s["acc"] = s.get("acc", cfg["initialAccumulatorValue"]) + g * g
        return x - lr * g / np.sqrt(s["acc"] + 1e-7)
    if name == "Adadelta":
        rho, ag, av = cfg["rho"], s.get("ag", 0.0), s.get("av", 0.0)
        upd = np.sqrt(av + eps) / np.sqrt(ag + eps) * g
        s["ag"] = rho * ag + (1 - rho) * g * g
        s["av"] = rho * av + (1 - rho) * upd * upd
        return x - lr * upd
    if name in ("Adam", "Adamax"):
        b1, b2 = cfg["beta1"], cfg["beta2"]
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        if name == "Adam":
            s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
            m_hat, v_hat = s["m"] / (1 - b1**t), s["v"] / (1 - b2**t)
            return x - lr * m_hat / (np.sqrt(v_hat) + eps)
        s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g))
        lr_t = lr / (1 + cfg["decay"] * (t - 1))
        return x - lr_t / (1 - b1**t) * s["m"] / (s["u"] + eps)
    if name == "RMSProp":
        d = cfg["decay"]
        s["ms"] = d * s.get("ms", 0) + (1 - d) * g * g
        if cfg["centered"]:
            s["mg"] = d * s.get("mg", 0) + (1 - d) * g
            denom = np.sqrt(s["ms"] - (s["mg"] ** 2 + eps))
        else:
            denom = np.sqrt(s["ms"] + eps)
        s["mom"] = cfg["momentum"] * s.get("mom", 0) + lr * g / denom
        return x - s["mom"]
    raise AssertionError(name)


NUMPY_CASES = [
    ("sgd", lambda: tf.train.sgd(0.05)),
    ("momentum", lambda: tf.train.momentum(0.05, 0.8)),
    ("nesterov", lambda: tf.train.momentum(0.05, 0.8, use_nesterov=True)),
    ("adagrad", lambda: tf.train.adagrad(0.2, initial_accumulator_value=0.5)),
    ("adadelta", lambda: tf.train.adadelta(0.5, rho=0.9, epsilon=1e-4)),
    ("adam", lambda: tf.train.adam(0.05, beta1=0.8, beta2=0.99, epsilon=1e-6)),
    ("adamax", lambda: tf.train.adamax(0.05, beta1=0.8, beta2=0.99, decay=0.1)),
    ("rmsprop", lambda: tf.train.rmsprop(0.02, decay=0.8, momentum=0.3)),
    ("rmsprop_centered", lambda: tf.train.rmsprop(0.02, 0.8, 0.3, 1e-6, True)),
]


@pytest.mark.parametrize("make", [m for _, m in NUMPY_CASES], ids=[n for n, _ in NUMPY_CASES])
def test_matches_numpy_formula_with_two_variables(make):
    rng = np.random.default_rng(7)
    a = rng.normal(size=(2, 3))
    y = rng.normal(size=(2, 3))
    w0, b0 = rng.normal(size=(2, 3)), rng.normal(size=3)
    w, b = tf.variable(w0), tf.variable(b0)
    at, yt = tf.tensor(a), tf.tensor(y)
    opt = make()
    cfg, name = opt.get_config(), opt.get_class_name()
    wr, br, sw, sb = w0.astype(np.float64), b0.astype(np.float64), {}, {}
    for t in range(1, 6):
        cost = opt.minimize(lambda: (w * at + b - yt).square().sum(), return_cost=True)
        r = wr * a + br - y
        np.testing.assert_allclose(float(cost), np.sum(r**2), rtol=1e-4)
        gw, gb = 2 * r * a, 2 * r.sum(0)
        wr, br = np_update(name, cfg, wr, gw, sw, t), np_update(name, cfg, br, gb, sb, t)
        np.testing.assert_allclose(w.numpy(), wr, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(b.numpy(), br, rtol=1e-4, atol=1e-5)


# --- constructors, configs, names ---------------------------------------------------------------
def test_defaults_follow_tfjs():
    assert tf.train.adam().get_config() == {
        "learningRate": 0.001,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-7,
    }
    assert tf.train.adamax().get_config()["learningRate"] == 0.002
    assert tf.train.adamax().get_config()["decay"] == 0.0
    assert tf.train.adadelta().get_config() == {"learningRate": 0.001, "rho": 0.95, "epsilon": 1e-7}
    assert tf.train.adagrad(0.3).get_config()["initialAccumulatorValue"] == 0.1
    assert tf.train.rmsprop(0.1).get_config() == {
        "learningRate": 0.1,
        "decay": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-7,
        "centered": False,
    }
    assert tf.train.momentum(0.1, 0.5).get_config()["useNesterov"] is False


@pytest.mark.parametrize("name", list(MAKERS))
def test_from_config_round_trips(name):
    opt = MAKERS[name]()
    again = tf.train.OPTIMIZERS[opt.get_class_name()].from_config(opt.get_config())
    assert type(again) is type(opt)
    assert again.get_config() == opt.get_config()
    assert again.getConfig() == opt.get_config()  # TF.js spelling


def test_slot_names_are_tfjs_names():
    x = tf.variable(tf.ones([2]), name=fresh_name("slots"))
    cases = [
        (tf.train.momentum(0.1, 0.9), ["momentum"]),
        (tf.train.adagrad(0.1), ["accumulator"]),
        (tf.train.adadelta(), ["accum_grad", "accum_var"]),
        (tf.train.adam(), ["m", "v"]),
        (tf.train.adamax(), ["m", "v"]),
        (tf.train.rmsprop(0.1), ["rms", "momentum"]),
        (tf.train.rmsprop(0.1, centered=True), ["rms", "momentum", "mg"]),
    ]
    for opt, slots in cases:
        opt.minimize(lambda: x.square().sum())
        names = [w["name"] for w in opt.get_weights()]
        assert names == ["iter"] + [f"{x.name}/{s}" for s in slots]


# --- state ------------------------------------------------------------------------------------
def test_get_and_set_weights_resume_identically():
    name = fresh_name("resume")
    x = tf.variable(tf.tensor(FIXTURE["x0"]), name=name)
    opt = tf.train.adam(0.05)
    f = quadratic(x)
    for _ in range(2):
        opt.minimize(f)
    saved = [{"name": w["name"], "tensor": w["tensor"].numpy()} for w in opt.get_weights()]
    assert saved[0]["name"] == "iter" and int(saved[0]["tensor"]) == 2
    x_saved = x.numpy()

    opt.minimize(f)
    expected = x.numpy()
    m = dict((w["name"], w["tensor"].numpy()) for w in opt.get_weights())

    x.assign(tf.tensor(x_saved))
    other = tf.train.adam(0.05)
    other.set_weights([{"name": s["name"], "tensor": tf.tensor(s["tensor"])} for s in saved])
    assert other.iterations == 2
    other.minimize(f)  # step 3: bias correction uses t = 3 and the restored moments
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)
    for w in other.get_weights()[1:]:
        np.testing.assert_allclose(w["tensor"].numpy(), m[w["name"]], rtol=1e-6)


def test_set_weights_rejects_unknown_slot():
    x = tf.variable(tf.ones([2]), name=fresh_name("badslot"))
    opt = tf.train.adam()
    with pytest.raises(ValueError, match="unknown optimizer weight"):
        opt.set_weights([{"name": f"{x.name}/rms", "tensor": tf.ones([2])}])


def test_set_learning_rate_changes_step_without_recompiling():
    x = tf.variable(tf.tensor([1.0, -2.0]))
    opt = tf.train.sgd(0.1)
    f = lambda: x.square().sum()  # noqa: E731
    opt.minimize(f)  # compiles once
    before = tf.engine.cache_info()["compiles"]
    x0 = x.numpy()
    opt.set_learning_rate(0.25)
    opt.minimize(f)
    np.testing.assert_allclose(x.numpy(), x0 - 0.25 * 2 * x0, rtol=1e-6)
    opt.setLearningRate(0.5)
    x1 = x.numpy()
    opt.minimize(f)
    np.testing.assert_allclose(x.numpy(), x1 - 0.5 * 2 * x1, rtol=1e-6)
    assert tf.engine.cache_info()["compiles"] == before
    assert opt.iterations == 3


def test_compute_then_apply_gradients_equals_minimize():
    x0 = np.array([0.5, -1.0, 2.0], np.float32)
    a = tf.variable(tf.tensor(x0), name=fresh_name("apply"))
    b = tf.variable(tf.tensor(x0))
    c = tf.tensor([1.0, 2.0, 3.0])
    opt_a, opt_b = tf.train.momentum(0.1, 0.9), tf.train.momentum(0.1, 0.9)
    for _ in range(3):
        r = opt_a.compute_gradients(lambda: (a * c).square().sum())
        np.testing.assert_allclose(
            r["grads"][a.name].numpy(), 2 * a.numpy() * c.numpy() ** 2, rtol=1e-6
        )
        opt_a.apply_gradients(r["grads"])
        opt_b.minimize(lambda: (b * c).square().sum())
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert opt_a.iterations == opt_b.iterations == 3


def test_apply_gradients_checks_names_and_shapes():
    x = tf.variable(tf.ones([3]), name=fresh_name("applychk"))
    opt = tf.train.sgd(0.1)
    with pytest.raises(ValueError, match="no variable named 'nope_no_such'"):
        opt.apply_gradients({"nope_no_such": tf.ones([3])})
    with pytest.raises(ValueError, match=r"shape \[2\]"):
        opt.apply_gradients({x.name: tf.ones([2])})
    np.testing.assert_array_equal(x.numpy(), np.ones(3))


def test_var_list_limits_the_update():
    a, b = tf.variable(tf.tensor([1.0, 2.0])), tf.variable(tf.tensor([3.0]))
    opt = tf.train.sgd(0.1)
    opt.minimize(lambda: a.square().sum() + b.square().sum(), var_list=[b])
    np.testing.assert_allclose(a.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(b.numpy(), [3.0 - 0.1 * 6.0], rtol=1e-6)


def test_untrainable_variable_is_left_alone():
    a = tf.variable(tf.tensor([1.0]))
    frozen = tf.variable(tf.tensor([2.0]), trainable=False)
    tf.train.sgd(0.5).minimize(lambda: (a * frozen).square().sum())
    np.testing.assert_allclose(frozen.numpy(), [2.0])
    np.testing.assert_allclose(a.numpy(), [1.0 - 0.5 * 2 * 1.0 * 4.0], rtol=1e-6)


# --- errors: clear, early, and nothing changes ------------------------------------------------
def test_non_scalar_loss_is_rejected():
    v = tf.variable(tf.tensor([1.0, 2.0]))
    opt = tf.train.adam(0.1)
    with pytest.raises(ValueError, match=r"must be a scalar.*\[2\]"):
        opt.minimize(lambda: v.square())
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])
    assert opt.iterations == 0


def test_no_connected_variable_gives_tfjs_message():
    expected = [e for k, e in tf_errors().items() if "with no variables" in k][0]["message"]
    assert expected == NO_CONNECTION
    with pytest.raises(ValueError) as info:
        tf.train.sgd(0.1).minimize(lambda: tf.scalar(3.0).square())
    assert str(info.value) == expected


def test_var_list_of_non_variables_is_rejected():
    v = tf.variable(tf.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="var_list must hold Variables"):
        tf.train.sgd(0.1).minimize(lambda: v.square().sum(), False, [tf.tensor([1.0, 2.0])])
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_a_step_that_raises_changes_nothing():
    v = tf.variable(tf.tensor([1.0, 2.0]))
    w = tf.variable(tf.tensor([[1.0, 2.0, 3.0]]))
    opt = tf.train.rmsprop(0.1, momentum=0.5)
    opt.minimize(lambda: v.square().sum() + w.sum())
    state = [x.numpy() for x in (v, w)] + [s["tensor"].numpy() for s in opt.get_weights()]

    def bad():
        loss = v.square().sum()
        return loss + (w + tf.ones([2, 2])).sum()  # [1,3] + [2,2] cannot broadcast

    with pytest.raises(Exception, match=r"broadcast|shape"):
        opt.minimize(bad)
    after = [x.numpy() for x in (v, w)] + [s["tensor"].numpy() for s in opt.get_weights()]
    for s0, s1 in zip(state, after, strict=True):
        np.testing.assert_array_equal(s0, s1)
    assert opt.iterations == 1


def tf_errors() -> dict:
    path = Path(__file__).parents[1] / "fixtures" / "tfjs" / "errors.json"
    return json.loads(path.read_text())["errors"]
