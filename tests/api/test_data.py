"""tf.data: datasets, zip, batch, shuffle, csv, and their TF.js semantics."""

import math

import clflow as tf
import clflow.data  # noqa: F401  (binds tf.data even before the package imports it)
import numpy as np
import pytest


def _np(x):
    return np.asarray(x.numpy())


def _counting_generator(n, calls):
    """A generator function yielding 0..n-1 that counts how often it is called."""

    def gen():
        calls.append(1)
        yield from range(n)

    return gen


# --- sources -------------------------------------------------------------------------------


def test_generator_restarts_every_pass():
    calls = []
    ds = tf.data.generator(_counting_generator(5, calls))
    assert ds.size is None
    assert calls == []  # nothing runs until iterated
    assert list(ds) == [0, 1, 2, 3, 4]
    assert ds.to_array() == [0, 1, 2, 3, 4]
    assert len(calls) == 2


def test_generator_rejects_generator_object_and_non_callables():
    def data():
        yield 1

    with pytest.raises(TypeError, match=r"data\(\) instead of data"):
        tf.data.generator(data())
    with pytest.raises(TypeError, match="generator function.*got int"):
        tf.data.generator(5)
    with pytest.raises(TypeError, match=r"returned int"):
        list(tf.data.generator(lambda: 5))


def test_array_sources():
    assert tf.data.array([1, 2, 3]).to_array() == [1, 2, 3]
    assert tf.data.array([1, 2, 3]).size == 3
    rows = np.arange(12).reshape(4, 3)
    got = tf.data.array(rows).to_array()
    assert len(got) == 4
    np.testing.assert_array_equal(np.stack(got), rows)
    with pytest.raises(TypeError, match="expects a list.*got int"):
        tf.data.array(5)
    with pytest.raises(TypeError, match="scalar"):
        tf.data.array(np.array(3.0))


# --- batch ---------------------------------------------------------------------------------


def test_batch_sizes_and_values():
    ds = tf.data.array(list(range(100))).batch(32)
    batches = ds.to_array()
    assert ds.size == 4
    assert [b.shape for b in batches] == [[32], [32], [32], [4]]
    assert all(b.dtype == "int32" for b in batches)
    np.testing.assert_array_equal(np.concatenate([_np(b) for b in batches]), np.arange(100))

    dropped = tf.data.array(list(range(100))).batch(32, small_last_batch=False)
    assert dropped.size == 3
    assert [b.shape for b in dropped] == [[32], [32], [32]]


def test_batch_dtypes_and_nested_structure():
    rng = np.random.default_rng(0)
    elements = [
        {
            "x": rng.normal(size=(2, 3)),  # float64 -> float32
            "n": int(i),
            "flag": bool(i % 2),
            "name": f"s{i}",
            "pair": (np.int64(i), [float(i), 2.0 * i]),
        }
        for i in range(5)
    ]
    (b,) = tf.data.array(elements).batch(5).to_array()
    assert set(b) == {"x", "n", "flag", "name", "pair"}
    assert b["x"].shape == [5, 2, 3] and b["x"].dtype == "float32"
    np.testing.assert_allclose(_np(b["x"]), np.stack([e["x"] for e in elements]), rtol=1e-6)
    assert b["n"].dtype == "int32"
    np.testing.assert_array_equal(_np(b["n"]), np.arange(5))
    assert b["flag"].dtype == "bool"
    np.testing.assert_array_equal(_np(b["flag"]), np.arange(5) % 2 == 1)
    assert b["name"] == ["s0", "s1", "s2", "s3", "s4"]
    assert isinstance(b["pair"], tuple) and len(b["pair"]) == 2
    assert b["pair"][0].dtype == "int32"
    np.testing.assert_array_equal(_np(b["pair"][0]), np.arange(5))
    # a list of plain numbers is one leaf, as in TF.js: [n, 2]
    assert b["pair"][1].shape == [5, 2] and b["pair"][1].dtype == "float32"
    np.testing.assert_array_equal(_np(b["pair"][1]), np.arange(5)[:, None] * [1.0, 2.0])


def test_batch_stacks_clflow_tensors():
    rows = [tf.tensor([i, i + 1.0, i + 2.0]) for i in range(4)]
    (b,) = tf.data.array(rows).batch(4)
    assert b.shape == [4, 3] and b.dtype == "float32"
    np.testing.assert_array_equal(_np(b), np.arange(4)[:, None] + np.arange(3.0))


def test_batch_errors():
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        tf.data.array([1]).batch(0)
    with pytest.raises(TypeError, match="batch_size must be an int, got float"):
        tf.data.array([1]).batch(1.5)
    bad_keys = tf.data.array([{"a": 1, "b": 2}, {"a": 1, "c": 2}]).batch(2)
    with pytest.raises(ValueError, match=r"element 0 has keys \['a', 'b'\].*element 1"):
        bad_keys.to_array()
    bad_shape = tf.data.array([{"xs": np.zeros(3)}, {"xs": np.zeros(4)}]).batch(2)
    with pytest.raises(ValueError, match=r"'xs'.*shape \[3\].*shape \[4\]"):
        bad_shape.to_array()
    mixed = tf.data.array(["a", 1]).batch(2)
    with pytest.raises(TypeError, match="mixes strings and numbers"):
        mixed.to_array()
    with pytest.raises(TypeError, match="cannot batch a object"):
        tf.data.array([object(), object()]).batch(2).to_array()


# --- shuffle -------------------------------------------------------------------------------


def test_shuffle_is_a_seeded_permutation():
    ds = tf.data.array(list(range(50))).shuffle(50, seed=3)
    first, second = ds.to_array(), ds.to_array()
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert first != list(range(50))
    assert first != second  # reshuffled each iteration
    again = tf.data.array(list(range(50))).shuffle(50, seed=3)
    assert again.to_array() == first and again.to_array() == second  # reproducible
    other = tf.data.array(list(range(50))).shuffle(50, seed=4)
    assert other.to_array() != first
    fixed = tf.data.array(list(range(50))).shuffle(50, seed=3, reshuffle_each_iteration=False)
    assert fixed.to_array() == fixed.to_array()
    assert ds.size == 50


def test_shuffle_buffer_bounds_how_far_ahead_it_reads():
    # Output i can only be an element the buffer has already read: index <= i + buffer - 1.
    for buffer in (1, 4, 10):
        out = tf.data.array(list(range(40))).shuffle(buffer, seed=7).to_array()
        assert sorted(out) == list(range(40))
        assert all(v <= i + buffer - 1 for i, v in enumerate(out))
    assert tf.data.array(list(range(10))).shuffle(1).to_array() == list(range(10))


def test_shuffle_first_element_is_uniform_over_seeds():
    counts = np.zeros(4)
    for seed in range(1000):
        counts[tf.data.array([0, 1, 2, 3]).shuffle(4, seed=seed).to_array()[0]] += 1
    assert counts.min() > 180 and counts.max() < 320  # expected 250 each


def test_shuffle_errors():
    ds = tf.data.array([1, 2])
    with pytest.raises(ValueError, match="positive integer, got 0"):
        ds.shuffle(0)
    with pytest.raises(ValueError, match="positive integer, got -3"):
        ds.shuffle(-3)
    with pytest.raises(ValueError, match="requires buffer_size.*dataset size, 2"):
        ds.shuffle(None)
    with pytest.raises(TypeError, match="seed must be an int or a str"):
        ds.shuffle(2, seed=1.5)


# --- zip and the guide's pipeline ----------------------------------------------------------


def test_zip_stops_at_shortest_and_keeps_structure():
    a = tf.data.array([1, 2, 3])
    b = tf.data.array(["x", "y"])
    c = tf.data.generator(lambda: iter(range(10, 20)))
    ds = tf.data.zip({"a": a, "inner": {"b": b, "pair": [a, c]}})
    assert ds.size is None  # c's size is unknown
    assert ds.to_array() == [
        {"a": 1, "inner": {"b": "x", "pair": [1, 10]}},
        {"a": 2, "inner": {"b": "y", "pair": [2, 11]}},
    ]
    assert tf.data.zip((a, b)).to_array() == [(1, "x"), (2, "y")]
    assert tf.data.zip([a, b]).size == 2


def test_zip_errors():
    with pytest.raises(TypeError, match=r"leaf at 'ys' must be a tf.data.Dataset, got ndarray"):
        tf.data.zip({"xs": tf.data.array([1]), "ys": np.zeros(2)})
    with pytest.raises(TypeError, match=r"leaf at 'a\[1\]'.*got int"):
        tf.data.zip({"a": [tf.data.array([1]), 3]})
    with pytest.raises(TypeError, match="dict, list or tuple of datasets, got a single Dataset"):
        tf.data.zip(tf.data.array([1]))
    with pytest.raises(TypeError, match="dict, list or tuple of datasets, got int"):
        tf.data.zip(3)
    with pytest.raises(ValueError, match="at least one dataset"):
        tf.data.zip({})


def test_guide_pipeline_zip_shuffle_batch():
    rng = np.random.default_rng(1)

    def data():
        for i in range(100):
            x = rng.normal(size=784).astype(np.float32)
            x[0] = i  # tag the sample so pairing can be checked after shuffling
            yield x

    def labels():
        for i in range(100):
            y = rng.uniform(size=10).astype(np.float32)
            y[0] = i
            yield y

    xs = tf.data.generator(data)
    ys = tf.data.generator(labels)
    ds = tf.data.zip({"xs": xs, "ys": ys}).shuffle(100).batch(32)
    for _epoch in range(2):
        batches = []
        ds.forEachAsync(batches.append)
        assert [b["xs"].shape for b in batches] == [[32, 784]] * 3 + [[4, 784]]
        assert [b["ys"].shape for b in batches] == [[32, 10]] * 3 + [[4, 10]]
        tags_x = np.concatenate([_np(b["xs"])[:, 0] for b in batches])
        tags_y = np.concatenate([_np(b["ys"])[:, 0] for b in batches])
        np.testing.assert_array_equal(tags_x, tags_y)
        assert sorted(tags_x.tolist()) == list(range(100))
        assert tags_x.tolist() != list(range(100))


# --- transformations and size --------------------------------------------------------------


def test_map_filter_take_skip_repeat_concatenate():
    ds = tf.data.array(list(range(10)))
    assert ds.map(lambda x: x * x).take(4).to_array() == [0, 1, 4, 9]
    assert ds.filter(lambda x: x % 3 == 0).to_array() == [0, 3, 6, 9]
    assert ds.skip(7).to_array() == [7, 8, 9]
    assert ds.take(-1).to_array() == list(range(10))
    assert ds.skip(-1).to_array() == list(range(10))
    assert ds.take(2).repeat(3).to_array() == [0, 1] * 3
    assert ds.take(3).repeat().take(7).to_array() == [0, 1, 2, 0, 1, 2, 0]
    assert ds.repeat(0).to_array() == []
    assert tf.data.array([]).repeat().to_array() == []  # no endless spin on an empty source
    assert ds.take(2).concatenate(ds.skip(8)).to_array() == [0, 1, 8, 9]
    assert ds.prefetch(4).to_array() == list(range(10))


def test_size_rules():
    ds = tf.data.array(list(range(10)))
    gen = tf.data.generator(lambda: iter(range(3)))
    assert ds.map(str).size == 10
    assert ds.filter(bool).size is None
    assert ds.take(3).size == 3 and ds.take(30).size == 10
    assert ds.skip(3).size == 7 and ds.skip(30).size == 0
    assert ds.repeat(3).size == 30 and ds.repeat().size == math.inf
    assert ds.repeat().filter(bool).size == math.inf
    assert ds.repeat().batch(4).size == math.inf
    assert ds.batch(3).size == 4 and ds.batch(3, small_last_batch=False).size == 3
    assert ds.concatenate(ds).size == 20 and ds.concatenate(gen).size is None
    assert ds.concatenate(ds.repeat()).size == math.inf
    assert gen.take(2).size is None and gen.repeat().size is None
    assert ds.shuffle(4).size == 10 and ds.prefetch(1).size == 10


def test_transformation_errors():
    ds = tf.data.array([1, 2])
    with pytest.raises(TypeError, match=r"map\(\): transform must be a function, got int"):
        ds.map(3)
    with pytest.raises(TypeError, match=r"filter\(\): predicate must be a function"):
        ds.filter(None)
    with pytest.raises(TypeError, match=r"concatenate\(\) expects a tf.data.Dataset, got list"):
        ds.concatenate([3])
    with pytest.raises(TypeError, match=r"take\(\): count must be an int, got str"):
        ds.take("2")
    with pytest.raises(ValueError, match="infinite"):
        ds.repeat().to_array()
    with pytest.raises(ValueError, match="infinite"):
        ds.repeat().for_each(print)


# --- csv -----------------------------------------------------------------------------------


@pytest.fixture
def houses(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_text("rooms,area,city,price\n3,70.5,Lima,250\n2,,Quito,180\n\n4,99,Cusco,\n")
    return path


def test_csv_header_numbers_and_strings(houses):
    ds = tf.data.csv(str(houses))
    assert ds.size is None
    assert ds.column_names() == ["rooms", "area", "city", "price"]
    rows = ds.to_array()
    assert rows == [
        {"rooms": 3.0, "area": 70.5, "city": "Lima", "price": 250.0},
        {"rooms": 2.0, "area": None, "city": "Quito", "price": 180.0},
        {"rooms": 4.0, "area": 99.0, "city": "Cusco", "price": None},
    ]
    assert ds.to_array() == rows  # the file is read again for every pass


def test_csv_labels_defaults_and_dtypes(houses):
    ds = tf.data.csv(
        houses,
        column_configs={
            "area": {"default": 50.0},
            "rooms": {"dtype": "int32"},
            "price": {"isLabel": True, "default": 0.0},
        },
    )
    rows = ds.to_array()
    assert rows[1] == {"xs": {"rooms": 2, "area": 50.0, "city": "Quito"}, "ys": {"price": 180.0}}
    assert rows[2]["ys"] == {"price": 0.0}
    assert isinstance(rows[0]["xs"]["rooms"], int)
    b = ds.map(lambda r: {"xs": [r["xs"]["rooms"], r["xs"]["area"]], "ys": r["ys"]["price"]})
    (batch,) = b.batch(3).to_array()
    np.testing.assert_array_equal(_np(batch["xs"]), [[3, 70.5], [2, 50.0], [4, 99.0]])
    np.testing.assert_array_equal(_np(batch["ys"]), [250.0, 180.0, 0.0])
    assert batch["ys"].dtype == "float32"

    only = tf.data.csv(
        houses,
        column_configs={"rooms": {}, "price": {"is_label": True}},
        configured_columns_only=True,
    )
    assert only.column_names() == ["rooms", "price"]
    assert only.take(1).to_array() == [{"xs": {"rooms": 3.0}, "ys": {"price": 250.0}}]
    with pytest.raises(ValueError, match=r"required column 'price' is empty on line 5"):
        only.to_array()


def test_csv_delimiter_no_header_and_bool(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text('1;true;"a;b"\n0;FALSE;c\n')
    ds = tf.data.csv(
        path,
        has_header=False,
        column_names=["n", "ok", "s"],
        column_configs={"ok": {"dtype": "bool"}, "n": {"dtype": "bool"}},
        delimiter=";",
    )
    assert ds.to_array() == [
        {"n": True, "ok": True, "s": "a;b"},
        {"n": False, "ok": False, "s": "c"},
    ]
    (batch,) = ds.batch(2)
    assert batch["ok"].dtype == "bool"
    np.testing.assert_array_equal(_np(batch["ok"]), [True, False])
    spaced = tmp_path / "spaced.txt"
    spaced.write_text("a b\n1   2\n 3 4\n")
    assert tf.data.csv(spaced, delim_whitespace=True).to_array() == [
        {"a": 1.0, "b": 2.0},
        {"a": 3.0, "b": 4.0},
    ]


def test_csv_errors(houses, tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        tf.data.csv(missing)
    with pytest.raises(ValueError, match="column_names must be provided"):
        tf.data.csv(houses, has_header=False)
    with pytest.raises(ValueError, match="2 column_names were given.*has 4 columns"):
        tf.data.csv(houses, column_names=["a", "b"])
    with pytest.raises(ValueError, match="'prize' is not a column.*did you mean 'price'"):
        tf.data.csv(houses, column_configs={"prize": {"is_label": True}})
    with pytest.raises(TypeError, match="unknown option 'label'.*did you mean 'is_label'"):
        tf.data.csv(houses, column_configs={"price": {"label": True}})
    with pytest.raises(ValueError, match="dtype must be one of"):
        tf.data.csv(houses, column_configs={"price": {"dtype": "float64"}})
    with pytest.raises(ValueError, match="duplicate column names"):
        tf.data.csv(houses, column_names=["a", "a", "b", "c"])
    with pytest.raises(ValueError, match="configured_columns_only"):
        tf.data.csv(houses, configured_columns_only=True)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    with pytest.raises(ValueError, match="line 3 of .* has 1 values, expected 2"):
        tf.data.csv(ragged).to_array()
    with pytest.raises(ValueError, match="missing \\(None\\)"):
        tf.data.csv(houses).batch(3).to_array()


def test_tfjs_spellings(houses):
    ds = tf.data.csv(
        str(houses),
        {"hasHeader": True, "columnConfigs": {"price": {"isLabel": True, "default": 0.0}}},
    )
    assert ds.columnNames() == ["rooms", "area", "city", "price"]
    assert ds.toArray()[2] == {
        "xs": {"rooms": 4.0, "area": 99.0, "city": "Cusco"},
        "ys": {"price": 0.0},
    }
    with pytest.raises(TypeError, match="hasHeder.*did you mean .hasHeader"):
        tf.data.csv(str(houses), {"hasHeder": True})
    nums = tf.data.array(list(range(10)))
    assert nums.batch(4, smallLastBatch=False).size == 2
    fixed = nums.shuffle(10, seed=1, reshuffleEachIteration=False)
    assert fixed.toArray() == fixed.toArray()
    assert nums.mapAsync(lambda x: -x).take(2).toArray() == [0, -1]
