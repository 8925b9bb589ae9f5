"""The IR: printed form, verification, and shape-rule errors that name what was wrong."""

from __future__ import annotations

import re

import pytest
from clflow.compiler.ir import Graph, IRError, Node, toposort
from clflow.compiler.ops import make


def inp(k: int, shape, dtype: str = "float32", role: str = "input", name=None) -> Node:
    n = Node("input", (), {"index": k, "role": role}, tuple(shape), dtype)
    n.name = name
    return n


def dense_graph() -> tuple[Graph, list[Node]]:
    x = inp(0, (32, 784), name="x")
    w = inp(1, (784, 32), role="param", name="w0")
    b = inp(2, (32,), role="param", name="b0")
    h = make("matmul", [x, w])
    a = make("add", [h, b])
    y = make("relu", [a])
    s = make("sum", [y], axes=1, keep_dims=True)
    return Graph([x, w, b], [y, s]), [h, a, y, s]


# --- dump ------------------------------------------------------------------------------------
def test_dump_one_line_per_node_with_types_and_users():
    g, _ = dense_graph()
    lines = g.dump().splitlines()
    assert lines[0] == "graph(x: f32[32,784], w0: f32[784,32] param, b0: f32[32] param):"
    assert len(lines) == 1 + 4 + 1  # header, four compute nodes, return
    assert re.fullmatch(r"  %3: f32\[32,32\] = matmul(\[.*\])? %x, %w0 +# users=1", lines[1])
    assert re.fullmatch(r"  %4: f32\[32,32\] = add %3, %b0 +# users=1", lines[2])
    assert re.fullmatch(r"  %5: f32\[32,32\] = relu %4 +# users=1", lines[3])
    assert re.fullmatch(
        r"  %6: f32\[32,1\] = sum\[axes=\(1\), keep_dims=True\] %5 +# users=0", lines[4]
    )
    assert lines[5] == "  return %5, %6"


def test_dump_dtypes_unnamed_inputs_and_several_users():
    x = inp(0, (3,), "int32")
    c = inp(1, (3,), "bool")
    y = make("mul", [x, x])
    z = make("where", [c, y, x])
    text = Graph([x, c], [z]).dump()
    assert text.splitlines()[0] == "graph(in0: i32[3], in1: bool[3]):"
    assert re.search(r"%2: i32\[3\] = mul %in0, %in0 +# users=1", text)
    assert re.search(r"%3: i32\[3\] = where %in1, %2, %in0 +# users=0", text)


def test_dump_shows_float_attributes_exactly():
    x = inp(0, (2,))
    text = Graph([x], [make("leaky_relu", [x], alpha=0.1)]).dump()
    assert "leaky_relu[alpha=0.1] %in0" in text


def test_dump_group_annotations():
    g, (h, *_) = dense_graph()
    text = g.dump(groups={id(h): "group=0"})
    assert re.search(r"= matmul.*# users=1 group=0", text)


def test_unused_input_stays_in_signature():
    x, unused = inp(0, (2,)), inp(1, (5,))
    g = Graph([x, unused], [make("exp", [x])])
    assert g.nodes[0] is unused
    assert "in1: f32[5]" in g.dump().splitlines()[0]
    g.verify()


def test_toposort_inputs_first_and_shared_nodes_once():
    x = inp(0, (4,))
    a = make("exp", [x])
    b = make("add", [a, a])
    c = make("mul", [b, a])
    order = toposort([c, b])
    assert order == [x, a, b, c]


def test_users_counts_each_use():
    x = inp(0, (4,))
    a = make("exp", [x])
    b = make("add", [a, a])
    users = Graph([x], [b]).users()
    assert [u.op for u in users[id(a)]] == ["add", "add"]


# --- verify ----------------------------------------------------------------------------------
def test_verify_accepts_a_good_graph():
    g, _ = dense_graph()
    g.verify()


def test_verify_catches_a_node_whose_type_disagrees():
    x = inp(0, (3, 4))
    bad = Node("relu", (x,), {}, (4, 3), "float32")
    with pytest.raises(IRError, match=r"disagrees.*= relu"):
        Graph([x], [bad]).verify()


def test_verify_catches_wrong_dtype_unknown_op_and_stray_input():
    x = inp(0, (3,))
    with pytest.raises(IRError, match=r"disagrees"):
        Graph([x], [Node("exp", (x,), {}, (3,), "int32")]).verify()
    with pytest.raises(IRError, match=r"unknown op 'frobnicate'"):
        Graph([x], [Node("frobnicate", (x,), {}, (3,), "float32")]).verify()
    stray = inp(1, (3,))
    with pytest.raises(IRError, match=r"not listed in graph inputs"):
        Graph([x], [make("add", [x, stray])]).verify()
    with pytest.raises(IRError, match=r"graph input is not an 'input' node"):
        Graph([make("exp", [x])], [x]).verify()


def test_verify_names_an_unknown_dtype():
    x = inp(0, (3,))
    with pytest.raises(IRError, match=r"unknown dtype 'float16'"):
        Graph([x], [Node("exp", (x,), {}, (3,), "float16")]).verify()


def test_verify_accepts_int_and_bool_consts():
    x = inp(0, (3,), "int32")
    Graph([x], [make("add", [x, 2]), make("logical_and", [make("less", [x, 1]), True])]).verify()


# --- shape-rule errors name both sides -------------------------------------------------------
@pytest.mark.parametrize(
    "build,pattern",
    [
        (lambda a, b: make("add", [a, b]), r"add: .*shapes \[3, 4\] and \[5\]"),
        (
            lambda a, b: make("where", [make("less", [a, 0.0]), a, b]),
            r"where: .*\[3, 4\] and \[5\]",
        ),
        (
            lambda a, b: make("matmul", [a, a]),
            r"inner dimensions must match: shapes \[3, 4\] and \[3, 4\].* 4 and 3",
        ),
        (lambda a, b: make("matmul", [a, b]), r"rank-2 .*\[3, 4\] and \[5\]"),
        (
            lambda a, b: make("reshape", [a], shape=(5, 2)),
            r"reshape: size of shape \[3, 4\] \(12 elements\).*\[5, 2\] \(10 elements\)",
        ),
        (
            lambda a, b: make("reshape", [a], shape=(-1, 5)),
            r"cannot infer -1 in \[-1, 5\].*\[3, 4\]",
        ),
        (lambda a, b: make("sum", [a], axes=2), r"sum: axis 2 is out of range .* rank 2"),
        (lambda a, b: make("max", [a], axes=(0, -2)), r"max: repeated axis"),
        (lambda a, b: make("transpose", [a], perm=(0, 0)), r"perm \[0, 0\] is not a permutation"),
        (
            lambda a, b: make("concat", [a, make("reshape", [a], shape=(4, 3))], axis=1),
            r"concat: shapes \[\[3, 4\], \[4, 3\]\] differ outside axis 1",
        ),
        (
            lambda a, b: make("slice", [a], begin=(2, 0), size=(2, 4)),
            r"slice: .*out of bounds for shape \[3, 4\] \(axis 0\)",
        ),
        (lambda a, b: make("broadcast_to", [a], shape=(3, 5)), r"broadcast_to.*\[3, 4\].*\[3, 5\]"),
        (lambda a, b: make("softmax", [a], axis=0), r"softmax along axis 0"),
        (
            lambda a, b: make("clip_by_value", [a], clip_value_min=2, clip_value_max=1),
            r"clip_value_min \(2.0\) must be <= clip_value_max \(1.0\)",
        ),
        (lambda a, b: make("pad", [a], paddings=((1, 1),)), r"pad: .*shape \[3, 4\]"),
        (lambda a, b: make("gather", [a, a]), r"gather: indices must be int32, got float32"),
        (lambda a, b: make("exp", [a, b]), r"exp takes 1 tensor inputs, got 2"),
        (lambda a, b: make("nope", [a]), r"unknown op 'nope'"),
    ],
)
def test_shape_rule_errors(build, pattern):
    a, b = inp(0, (3, 4)), inp(1, (5,))
    with pytest.raises(IRError, match=pattern):
        build(a, b)


def test_cast_to_unknown_dtype():
    x = inp(0, (2,))
    with pytest.raises(IRError, match=r"cast: unsupported dtype float64"):
        make("cast", [x], dtype="float64")


def test_where_needs_bool_condition():
    x = inp(0, (2,))
    with pytest.raises(IRError, match=r"where: condition must be bool, got float32"):
        make("where", [x, x, x])


def test_broadcast_and_reduce_shapes():
    a, b = inp(0, (4, 1, 3)), inp(1, (5, 1))
    assert make("add", [a, b]).shape == (4, 5, 3)
    assert make("sum", [a], axes=(0, 2)).shape == (1,)
    assert make("sum", [a], axes=(0, 2), keep_dims=True).shape == (1, 1, 1)
    assert make("sum", [a]).shape == ()
    assert make("argmax", [a], axis=-1).shape == (4, 1)
    assert make("reshape", [a], shape=(-1, 6)).shape == (2, 6)
    assert make("gather", [a, inp(2, (2, 7), "int32")], axis=2).shape == (4, 1, 2, 7)
    assert make("one_hot", [inp(3, (6,), "int32")], depth=4).shape == (6, 4)
