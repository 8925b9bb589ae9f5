"""format_tensor against TF.js 4.22's own print/toString output."""

import json
from pathlib import Path

import numpy as np
import pytest
from clflow.printing import format_tensor, js_number_to_string

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tfjs" / "print.json"
CASES = json.loads(FIXTURE.read_text())["cases"]
NP_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "string": np.str_}
# The fixture stores these cases' inputs as formulas over the flat index i.
FORMULAS = {
    "v[i] = i": lambda i: i,
    "flat v[i] = i": lambda i: i,
    "v[i] = i*0.5 - 3": lambda i: i * 0.5 - 3,
}


def _values(case: dict) -> np.ndarray:
    """Build the case's tensor values as numpy, with TF.js's exact float32 bits."""
    if "input" in case:
        flat = case["input"]
        if case["dtype"] == "float32":
            flat = [float(v) for v in flat]  # "NaN"/"Infinity" strings parse too
    else:
        flat = FORMULAS[case["input_formula"]](np.arange(int(np.prod(case["shape"]))))
    return np.array(flat, dtype=NP_DTYPES[case["dtype"]]).reshape(case["shape"])


def test_fixture_covers_the_documented_cases():
    names = {c["name"] for c in CASES}
    assert {"scalar_float_third", "2d_40x40", "3d_25x2x2", "2d_0x3", "1d_nan_inf"} <= names
    assert all(c["toString_equals_print"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_tfjs_print(case):
    values = _values(case)
    assert format_tensor(values, case["dtype"]) == case["print"]
    assert format_tensor(values, case["dtype"], verbose=True) == case["print_verbose"]


# Expected texts below were captured from TF.js 4.22 (tfjs-core, cpu backend) with
# `t.toString()`; they pin layouts the fixture does not contain.
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # A single-row matrix: TF.js opens and closes the same line, leaving "[[...],]".
        (np.array([[1, 2, 3]]), "     [[1, 2, 3],]"),
        (np.arange(22.0).reshape(1, 22) - 3, "     [[-3, -2, -1, ..., 16, 17, 18],]"),
        (np.zeros((2, 0, 3)), "    [ [],\n\n      []]"),
        # toFixed ties round away from zero (0.00390625 = 1/256 is exact); -0 and tiny
        # negatives print "0"; at 1e21 and above toFixed gives up and prints the full value.
        (
            np.array([0.00390625, -0.00390625, -0.0, -1e-9, 3e21, -3.4028234663852886e38, 1e-6]),
            "    [0.0039063, -0.0039063, 0, 0, 2.999999989753888e+21, -3.4028234663852886e+38,"
            " 0.000001]",
        ),
        (np.arange(21) * 1.5, "    [0, 1.5, 3, ..., 27, 28.5, 30]"),
        (
            np.arange(20) * 1.5,
            "    [0, 1.5, 3, 4.5, 6, 7.5, 9, 10.5, 12, 13.5, 15, 16.5, 18, 19.5, 21, 22.5, 24,"
            " 25.5, 27, 28.5]",
        ),
        # Rank-3 blocks inside a rank-4 tensor are separated by two blank lines.
        (
            np.arange(8.0).reshape(2, 1, 2, 2),
            "    [[[[0, 1],\n       [2, 3]]],\n\n\n     [[[4, 5],\n       [6, 7]]]]",
        ),
        (np.array(0.1), "    0.10000000149011612"),
        (np.array(-0.0), "    0"),
        (np.array(3e21), "    2.999999989753888e+21"),
    ],
)
def test_matches_tfjs_layouts_outside_fixture(values, expected):
    assert format_tensor(values, "float32") == "Tensor\n" + expected


def test_truncation_boundary_is_twenty():
    assert "..." not in format_tensor(np.arange(20), "int32")
    assert format_tensor(np.arange(21), "int32") == "Tensor\n    [0, 1, 2, ..., 18, 19, 20]"
    rows = format_tensor(np.arange(42).reshape(21, 2), "int32").split("\n")
    assert rows[1:5] == ["    [[0 , 1 ],", "     [2 , 3 ],", "     [4 , 5 ],", "     ...,"]
    assert rows[-1] == "     [40, 41]]"
    assert len(rows) == 1 + 7


def test_hidden_rows_widen_columns():
    values = np.ones((25, 2), dtype=np.float32)
    values[10, 1] = 12345.5  # a hidden row still sets column 1's width
    text = format_tensor(values, "float32")
    assert "12345.5" not in text
    assert text.split("\n")[1] == "    [[1, 1      ],"


def test_int32_and_bool_scalars_and_verbose_header():
    assert format_tensor(np.array(-7), "int32", verbose=True) == (
        "Tensor\n  dtype: int32\n  rank: 0\n  shape: []\n  values:\n    -7"
    )
    assert format_tensor(np.array(True), "bool") == "Tensor\n    true"
    assert format_tensor(np.array([[1], [2]]), "int32", verbose=True) == (
        "Tensor\n  dtype: int32\n  rank: 2\n  shape: [2,1]\n  values:\n    [[1],\n     [2]]"
    )


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (1.23e-18, "1.23e-18"),
        (1e-6, "0.000001"),
        (1.5e300, "1.5e+300"),
        (100.0, "100"),
        (2.0**53, "9007199254740992"),
        (1.2345678901234568e20, "123456789012345680000"),
        (5e-324, "5e-324"),
        (-0.0, "0"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
    ],
)
def test_js_number_to_string(x, expected):
    # Expected values are node's String(x).
    assert js_number_to_string(x) == expected


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="dtype must be one of .* got 'float64'"):
        format_tensor(np.zeros(2), "float64")
    with pytest.raises(TypeError, match="'int32' needs integer values"):
        format_tensor(np.array([1.5]), "int32")
    with pytest.raises(TypeError, match="'float32' needs numeric or bool values"):
        format_tensor(np.array(["a"]), "float32")
