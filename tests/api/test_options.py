"""The TF.js option normaliser, the camelCase alias table and string identifier registries."""

import types

import pytest
from clflow._options import (
    ALIASES,
    Registry,
    install_aliases,
    normalize,
    register_alias,
    tfjs_options,
    to_camel,
    to_snake,
)


@pytest.mark.parametrize(
    "camel, snake",
    [
        ("matMul", "mat_mul"),
        ("fitDataset", "fit_dataset"),
        ("batchInputShape", "batch_input_shape"),
        ("inputShape", "input_shape"),
        ("useBias", "use_bias"),
        ("randomNormal", "random_normal"),
        ("forEachAsync", "for_each_async"),
        ("leCunNormal", "lecun_normal"),
        ("inputDType", "input_dtype"),
        ("relu6", "relu6"),
        ("l1l2", "l1l2"),
        ("units", "units"),
    ],
)
def test_case_conversion_round_trips(camel, snake):
    assert to_snake(camel) == snake
    assert to_camel(snake) == camel


def test_snake_input_is_left_alone():
    assert to_snake("kernel_initializer") == "kernel_initializer"
    assert to_camel("units") == "units"


def test_normalize_merges_dict_and_kwargs():
    out = normalize(
        "dense",
        {"inputShape": [784], "useBias": False},
        {"units": 3},
        ["units", "input_shape", "use_bias"],
    )
    assert out == {"input_shape": [784], "use_bias": False, "units": 3}


def test_normalize_unknown_key_did_you_mean_in_callers_spelling():
    with pytest.raises(TypeError) as info:
        normalize("dense", {"inputShap": [3]}, {}, ["units", "input_shape", "use_bias"])
    msg = str(info.value)
    assert "dense()" in msg and "'inputShap'" in msg
    assert "did you mean 'inputShape'?" in msg
    assert "inputShape, units, useBias" in msg


def test_normalize_unknown_snake_key_lists_snake_names():
    with pytest.raises(TypeError, match=r"did you mean 'units'\?.*input_shape, units"):
        normalize("dense", None, {"unit": 3}, ["units", "input_shape"])


def test_normalize_duplicate_spellings_rejected():
    with pytest.raises(TypeError, match="twice"):
        normalize("f", {"inputShape": [1]}, {"input_shape": [2]}, ["input_shape"])


def test_normalize_rejects_non_dict_options():
    with pytest.raises(TypeError, match="expected an options dict, got int"):
        normalize("f", 3, {}, ["a"])  # type: ignore[arg-type]


@tfjs_options()
def _dense(units=None, input_shape=None, use_bias=True):
    return units, input_shape, use_bias


@tfjs_options(positional=2)
def _fit(x, y, batch_size=32, epochs=1):
    return x, y, batch_size, epochs


def test_decorator_accepts_dict_kwargs_and_positional():
    assert _dense({"units": 4, "inputShape": [2]}) == (4, [2], True)
    assert _dense(units=4, use_bias=False) == (4, None, False)
    assert _dense(5) == (5, None, True)
    assert _dense({"units": 4}, useBias=False) == (4, None, False)


def test_decorator_options_after_data_arguments():
    assert _fit("x", "y", {"batchSize": 8, "epochs": 5}) == ("x", "y", 8, 5)
    assert _fit("x", "y", epochs=2) == ("x", "y", 32, 2)
    # A dict in a data position is data, not options.
    assert _fit("x", {"a": 1}) == ("x", {"a": 1}, 32, 1)


def test_decorator_unknown_kwarg_gets_did_you_mean():
    with pytest.raises(
        TypeError, match=r"_dense\(\) got an unknown option 'unit'; did you mean 'units'"
    ):
        _dense(unit=3)
    with pytest.raises(TypeError, match="did you mean 'batchSize'"):
        _fit(1, 2, {"batchSzie": 3})


def test_decorator_clash_between_positional_and_option():
    with pytest.raises(TypeError, match="multiple values"):
        _dense(3, units=4)


def test_decorator_extra_names_for_var_kwargs():
    @tfjs_options(extra=("name", "trainable"))
    def make(units=None, **base):
        return units, base

    assert make({"units": 2, "name": "x"}) == (2, {"name": "x"})
    with pytest.raises(TypeError, match="did you mean 'trainable'"):
        make({"trainabel": False})


def test_decorator_on_method_skips_self():
    class Model:
        @tfjs_options(positional=1)
        def fit(self, x, epochs=1, verbose=1):
            return x, epochs, verbose

    assert Model().fit("x", {"epochs": 3}) == ("x", 3, 1)


def test_install_aliases_on_namespace():
    ns = types.SimpleNamespace(mat_mul=lambda: "mm", fit_dataset=lambda: "fd", relu=lambda: "r")
    added = install_aliases(ns)
    assert sorted(added) == ["fitDataset", "matMul"]
    assert ns.matMul() == "mm" and ns.fitDataset() == "fd"


def test_install_aliases_on_class_forwards_to_overrides_and_properties():
    class Base:
        def __init__(self):
            self._x = 1

        def count_params(self):
            return 1

        @property
        def trainable_weights(self):
            return ["w"]

        @property
        def some_flag(self):
            return self._x

        @some_flag.setter
        def some_flag(self, value):
            self._x = value

    install_aliases(Base)

    class Child(Base):
        def count_params(self):
            return 2

    assert Base().countParams() == 1
    assert Child().countParams() == 2  # the alias reaches the override
    assert Child().trainableWeights == ["w"]
    obj = Child()
    obj.someFlag = 7
    assert obj.some_flag == 7


def test_register_alias_extends_the_one_table():
    register_alias("zzFooBAR", "zz_foobar")
    assert ALIASES["zzFooBAR"] == "zz_foobar"
    assert to_snake("zzFooBAR") == "zz_foobar"
    assert to_camel("zz_foobar") == "zzFooBAR"


def test_registry_spellings_and_did_you_mean():
    reg = Registry("loss")
    reg.add("cce", "categoricalCrossentropy", "categorical_crossentropy")
    reg.add("mse", "meanSquaredError", "mse")
    assert reg.get("categoricalCrossentropy") == "cce"
    assert reg.get("categorical_crossentropy") == "cce"
    assert reg.get("MSE") == "mse"
    with pytest.raises(ValueError) as info:
        reg.get("categoricalCrossentropi")
    msg = str(info.value)
    assert msg.startswith("Unknown loss: categoricalCrossentropi.")
    assert "Did you mean 'categoricalCrossentropy'?" in msg
    assert "Valid loss names: categoricalCrossentropy, meanSquaredError." in msg
