"""The graph dump tool: stages, DOT, JSON, HTML and CLFLOW_DUMP on a Core-API train step."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import clflow as tf
import networkx as nx
import numpy as np
import pytest
from clflow import engine
from clflow.compiler.dot import to_dot, to_networkx
from clflow.compiler.ir import Graph, Node
from clflow.compiler.ops import make
from clflow.dump import DumpError, dump_graph, profile_runs, render, to_data
from clflow.dump_targets import collect

RNG = np.random.default_rng(7)
W1 = (RNG.standard_normal((784, 32)) * 0.05).astype(np.float32)
W2 = (RNG.standard_normal((32, 10)) * 0.05).astype(np.float32)
XS = RNG.standard_normal((32, 784)).astype(np.float32)
YS = np.eye(10, dtype=np.float32)[RNG.integers(0, 10, 32)]
LOSSES: list[float] = []


def core_step() -> None:
    """The guide's Core-API step: 784-32-10 with tf ops, log_softmax loss, sgd(0.1)."""
    w1, b1 = tf.variable(tf.tensor(W1)), tf.variable(tf.zeros([32]))
    w2, b2 = tf.variable(tf.tensor(W2)), tf.variable(tf.zeros([10]))
    xs, ys = tf.tensor(XS), tf.tensor(YS)

    def loss():
        logits = xs.mat_mul(w1).add(b1).relu().mat_mul(w2).add(b2)
        return tf.neg(ys.mul(tf.log_softmax(logits)).sum(axis=1)).mean()

    LOSSES.append(float(tf.train.sgd(0.1).minimize(loss, return_cost=True).data_sync()[0]))


def reference_loss() -> float:
    logits = np.maximum(XS.astype(np.float64) @ W1, 0) @ W2
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    return float(-(YS * logp).sum(1).mean())


@pytest.fixture(scope="module")
def dumps():
    got = collect(core_step)
    profile_runs(got, 2)
    return got


def main_dump(dumps):
    (step,) = [d for d in dumps if d.name == "train_step"]
    return step


def test_step_ran_and_every_launch_is_dumped(dumps):
    np.testing.assert_allclose(LOSSES[-1], reference_loss(), rtol=1e-3, atol=1e-4)
    step = main_dump(dumps)
    assert step.runner is not None and step.runner.executable is step.exe
    data = to_data(dumps)
    (js,) = [e for e in data["executables"] if e["name"] == "train_step"]
    assert len(js["launches"]) == len(step.runner.executable.launches) == step.runner.num_launches
    # The capture hands its runners back to the engine cache: the next step compiles nothing.
    before = engine.stats["compiles"]
    core_step()
    assert engine.stats["compiles"] == before


def test_stages_forward_autodiff_kernels(dumps):
    stages = {s.name: s for s in main_dump(dumps).stages}
    assert list(stages)[:2] == ["forward", "autodiff"] and list(stages)[-1] == "kernels"
    fwd, full = stages["forward"].graph, stages["autodiff"].graph
    ops = [n.op for n in fwd.nodes]
    # Forward: two matmuls, no relu gradient; the train step adds dX, dW1 and dW2.
    assert ops.count("matmul") == 2 and "step" not in ops and fwd.outputs[0].shape == ()
    assert [n.op for n in full.nodes].count("matmul") == 5
    text = render(dumps, "forward", "text")
    assert "# --- forward ---" in text and "# --- autodiff ---" not in text
    assert "log_softmax" in text


def test_profile_times_every_launch(dumps):
    step = main_dump(dumps)
    rows = step.launch_rows()
    ran = [r for r in rows if 0 not in r["global_size"]]
    assert all(r["time_s"] is not None and r["time_s"] > 0 for r in ran)
    gemm = [r for r in rows if r["flops"]]
    assert gemm and all(r["gflops"] == pytest.approx(r["flops"] / r["time_s"] * 1e-9) for r in gemm)


def test_json_structure(dumps):
    data = json.loads(render(dumps, "all", "json"))
    assert data["clflow_dump"] == 1 and data["executables"]
    for e in data["executables"]:
        for st in e["stages"]:
            ids = {n["id"] for n in st["graph"]["nodes"]}
            assert all(a in ids and b in ids for a, b in st["graph"]["edges"])
            for n in st["graph"]["nodes"]:
                assert set(n) >= {"id", "label", "op", "type", "shape", "dtype", "users"}
        for ln in e["launches"]:
            assert 0 <= ln["kernel"] < len(e["kernels"])
            assert e["kernels"][ln["kernel"]]["name"] == ln["kernel_name"]
        final = e["stages"][-1]["graph"]["nodes"]
        for ln in e["launches"]:  # each launch points at the node it computes
            if ln["node"] is not None:
                node = next(n for n in final if n["id"] == f"n{ln['node']}")
                assert ln["kernel_name"] in node["kernels"]
                assert f"= {node['op']}" in ln["label"]


def fused_graph() -> Graph:
    """A hand-made fused dense node (op 'fused', body graph in attrs) as the fusion pass makes."""
    x = Node("input", (), {"index": 0, "role": "input"}, (4, 3), "float32")
    w = Node("input", (), {"index": 1, "role": "param"}, (3, 2), "float32")
    x.name, w.name = "x", "w"
    bx = Node("input", (), {"index": 0}, (4, 3), "float32")
    bw = Node("input", (), {"index": 1}, (3, 2), "float32")
    body = Graph([bx, bw], [make("relu", [make("matmul", [bx, bw])])], "body")
    fused = Node("fused", (x, w), {"body": body}, (4, 2), "float32")
    return Graph([x, w], [make("neg", [fused])], "g")


def test_dot_reads_back_with_clusters():
    pydot = pytest.importorskip("pydot")
    g = fused_graph()
    ours = to_networkx(g, {2: ["gemm_k"]})
    text = to_dot(g, {2: ["gemm_k"]})
    assert "subgraph cluster_0" in text
    (parsed,) = pydot.graph_from_dot_data(text)
    back = nx.nx_pydot.from_pydot(parsed)
    nodes = {n for n in back.nodes if n.startswith("n")}
    assert nodes == set(ours.nodes)
    assert {(a, b) for a, b in back.edges()} == set(ours.edges())
    (cluster,) = parsed.get_subgraphs()
    inner = {n.get_name() for n in cluster.get_nodes() if n.get_name().startswith("n")}
    assert inner == {"n2_2", "n2_3"}  # the body's matmul and relu, inside the cluster
    assert "gemm_k" in cluster.get("label")
    # Edges enter the body at the matmul and leave from the relu, through the fused node n2.
    assert ("n0", "n2_2") in ours.edges and ("n2_3", "n2") in ours.edges
    assert ("n2", "n3") in ours.edges and "n2" not in inner


def multi_output_graph() -> Graph:
    """Two fused nodes sharing one body (a 2-output group), as the fusion pass makes them."""
    x = Node("input", (), {"index": 0, "role": "input"}, (4, 3), "float32")
    x.name = "x"
    bx = Node("input", (), {"index": 0}, (4, 3), "float32")
    body = Graph([bx], [make("exp", [bx]), make("neg", [bx])], "body")
    f0 = Node("fused", (x,), {"body": body, "out": 0}, (4, 3), "float32")
    f1 = Node("fused", (x,), {"body": body, "out": 1}, (4, 3), "float32")
    return Graph([x], [make("add", [f0, f1])], "g")


def test_multi_output_group_draws_body_once_and_routes_by_out():
    pydot = pytest.importorskip("pydot")
    g = multi_output_graph()
    ours = to_networkx(g, {1: ["k0"], 2: ["k0"]})
    (cid,) = ours.graph["clusters"]
    assert cid == "c1" and ours.graph["clusters"][cid]["nodes"] == [1, 2]
    # Body: exp is n1_1, neg is n1_2; node n1 (out=0) reads exp, n2 (out=1) reads neg.
    assert ours.nodes["n1_1"]["op"] == "exp" and ours.nodes["n1_2"]["op"] == "neg"
    assert ("n1_1", "n1") in ours.edges and ("n1_2", "n2") in ours.edges
    assert ("n1_1", "n2") not in ours.edges and ("n1", "n3") in ours.edges
    assert ("n2", "n3") in ours.edges and ("n0", "n1_1") in ours.edges
    (parsed,) = pydot.graph_from_dot_data(to_dot(g))
    assert len(parsed.get_subgraphs()) == 1
    assert {n.get_name() for n in parsed.get_nodes()} >= {"n0", "n1", "n2", "n3"}


def test_dot_of_train_step_parses(dumps):
    pydot = pytest.importorskip("pydot")
    (parsed,) = pydot.graph_from_dot_data(render(dumps, "all", "dot"))
    step = main_dump(dumps)
    graph = step.exe.info["graph"]
    names = {n.get_name() for n in parsed.get_nodes() if re.fullmatch(r"n\d+", n.get_name())}
    assert len(names) == len(graph.nodes)
    # One cluster per fused group: a multi-output group's shared body is drawn once.
    bodies = {id(n.attrs["body"]) for n in graph.nodes if n.op == "fused"}
    assert len(parsed.get_subgraphs()) == len(bodies) < sum(n.op == "fused" for n in graph.nodes)
    back = nx.nx_pydot.from_pydot(parsed)
    assert nx.is_directed_acyclic_graph(back)


def html_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="clflow-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_html_is_self_contained_and_holds_every_source(dumps, tmp_path):
    path = tmp_path / "step.html"
    html = render(dumps, "all", "html")
    path.write_text(html)
    assert not re.search(r"https?://|\bsrc\s*=|<link|@import", html)
    data = html_data(html)
    for d, e in zip(dumps, data["executables"], strict=True):
        assert [k["source"] for k in e["kernels"]] == [k.source for k in d.exe.kernels]
        assert all(st["svg"].startswith("<svg") for st in e["stages"])
    step = main_dump(dumps)
    svg = data["executables"][step.index]["stages"][-1]["svg"]
    assert len(re.findall(r'class="node" data-id="n\d+"', svg)) == len(step.exe.info["graph"].nodes)


def test_html_draws_fused_cluster():
    from clflow.dump_html import render_svg

    g = fused_graph()
    ours = to_networkx(g)
    data = {
        "nodes": [{"id": n, **d} for n, d in ours.nodes(data=True)],
        "edges": [list(e) for e in ours.edges()],
        "clusters": [{"id": c, **v} for c, v in ours.graph["clusters"].items()],
    }
    svg = render_svg(data, "t")
    # x, w, the fused node, neg, and the body's matmul and relu inside the one cluster.
    assert svg.count('class="cluster"') == 1 and svg.count('class="node"') == 6


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_html_renders_in_headless_chromium(dumps, tmp_path):
    path = tmp_path / "step.html"
    path.write_text(render(dumps, "all", "html"))
    r = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    step = main_dump(dumps)
    # The page's script put the main executable's final graph and its kernel table in place.
    top = re.findall(r'class="node" data-id="n\d+"', r.stdout)
    assert len(top) == len(step.exe.info["graph"].nodes)
    assert len(re.findall(r'<tr class="k" data-i="\d+"', r.stdout)) == len(step.exe.launches)


def test_dump_graph_api_and_errors(dumps, tmp_path):
    out = tmp_path / "g.json"
    text = dump_graph(main_dump(dumps).exe, format="json", path=out)
    assert json.loads(out.read_text()) == json.loads(text)
    with pytest.raises(DumpError, match="unknown stage 'bogus'.*kernels"):
        render(dumps, "bogus", "text")
    with pytest.raises(DumpError, match="unknown format 'png'"):
        render(dumps, "all", "png")
    with pytest.raises(DumpError, match="compiled nothing"):
        dump_graph(lambda: None)
    with pytest.raises(DumpError, match="raised ZeroDivisionError"):
        dump_graph(lambda: 1 / 0)


def test_clflow_dump_env_writes_each_executable(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(
        textwrap.dedent("""
        import clflow as tf
        x = tf.tensor([[1.0, -2.0], [3.0, 4.0]])
        print(x.mat_mul(x).relu().sum().data_sync())
        print(x.add(1).data_sync())
        print(tf.engine.stats["compiles"])
    """)
    )
    out = tmp_path / "dump"
    env = {**os.environ, "CLFLOW_DUMP": str(out)}
    r = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    x = np.array([[1.0, -2.0], [3.0, 4.0]])
    assert float(lines[0].strip("[]")) == np.maximum(x @ x, 0).sum()
    compiles = int(lines[2])
    for ext in ("txt", "dot", "json", "html"):
        assert len(list(out.glob(f"*.{ext}"))) == compiles >= 2
    first = json.loads(sorted(out.glob("*.json"))[0].read_text())
    assert first["executables"][0]["kernels"]


def test_debug_profile_prints_first_run_only(dumps, capfd):
    from clflow.dump import _synthetic, debug_profile

    step = main_dump(dumps)
    runner = debug_profile(step.runner)
    rng = np.random.default_rng(0)
    dev = runner.device
    inputs = [dev.upload(_synthetic(step.exe.slots[s], rng)) for s in step.exe.inputs]
    runner.run(inputs)
    err = capfd.readouterr().err
    assert "kernel times of train_step" in err
    assert len(re.findall(r" us .* GFLOP/s", err)) == runner.num_launches
    runner.run(inputs)
    assert capfd.readouterr().err == ""
