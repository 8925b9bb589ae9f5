"""The ``clflow`` command: devices, graph on a saved model and a script, and its error messages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clflow import cli

MODEL = Path(__file__).parents[1] / "fixtures" / "tfjs" / "model_json"


def run(capsys, *args: str) -> tuple[int, str, str]:
    rc = cli.main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_devices_lists_the_default(capsys):
    from clflow.runtime import describe_devices

    rc, out, _ = run(capsys, "devices")
    assert rc == 0 and out.strip() == describe_devices().strip() and "*" in out


def test_graph_of_saved_model_profiles_kernels(capsys, tmp_path):
    out_path = tmp_path / "step.json"
    rc, out, err = run(
        capsys,
        "graph",
        str(MODEL),
        "--format",
        "json",
        "--out",
        str(out_path),
        "--profile",
        "2",
        "--batch-size",
        "8",
    )
    assert rc == 0, err
    data = json.loads(out_path.read_text())
    (step,) = [e for e in data["executables"] if e["name"] == "train_step"]
    names = [s["name"] for s in step["stages"]]
    assert names[:2] == ["forward", "autodiff"] and names[-1] == "kernels"
    # The synthetic batch has the model's input shape: [8, 784] from batch_input_shape.
    assert "f32[8,784]" in step["stages"][0]["text"]
    assert "dense_Dense1/kernel" in step["stages"][1]["text"]
    # The printed table: one row per profiled launch, slowest first.
    rows = [ln for ln in out.splitlines() if re.match(r"\s+\d+\.\d+\s+\d+\.\d", ln)]
    times = [float(ln.split()[0]) for ln in rows]
    assert len(rows) == sum(len(e["launches"]) for e in data["executables"] if e["profiled"])
    assert times == sorted(times, reverse=True)


def test_graph_of_script_text_stage(capsys, tmp_path):
    script = tmp_path / "build.py"
    script.write_text(
        "import clflow as tf\n"
        "model = tf.sequential(layers=[tf.layers.dense(input_shape=[6], units=3, "
        "activation='softmax')])\n"
    )
    rc, out, err = run(capsys, "graph", str(script), "--stage", "kernels", "--batch-size", "4")
    assert rc == 0, err
    assert "# --- kernels ---" in out and "# --- forward ---" not in out
    assert re.search(r"\] \S+ +global .*%\d+: f32\[4,3\]", out)  # a launch making the [4, 3] output


def test_svg_degrades_to_dot_without_graphviz(capsys, tmp_path, monkeypatch):
    script = tmp_path / "s.py"
    script.write_text("import clflow as tf\ntf.tensor([1.0, 2.0]).exp().data_sync()\n")
    monkeypatch.setattr("shutil.which", lambda name: None)
    rc, _, err = run(
        capsys, "graph", str(script), "--format", "svg", "--out", str(tmp_path / "g.svg")
    )
    assert rc == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert not (tmp_path / "g.svg").exists()
    assert "Graphviz" in err and "apt-get install graphviz" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["graph", "/no/such/model"], "is not a model directory, a model.json"),
        (["graph", str(MODEL), "--stage", "bogus"], "unknown stage 'bogus'"),
        (["graph", str(MODEL), "--format", "png"], "unknown format 'png'"),
        (["graph", "no_such_module_xyz:build"], "cannot import module 'no_such_module_xyz'"),
    ],
)
def test_bad_input_is_one_clear_line(capsys, args, message):
    rc, _, err = run(capsys, *args)
    assert rc == 2 and message in err and "Traceback" not in err
    assert err.startswith("clflow: error:")


def test_corrupt_model_and_raising_script(capsys, tmp_path):
    (tmp_path / "model.json").write_text("{not json")
    rc, _, err = run(capsys, "graph", str(tmp_path))
    assert rc == 2 and "cannot load a model" in err and "not valid JSON" in err
    boom = tmp_path / "boom.py"
    boom.write_text("raise RuntimeError('boom at line 1')\n")
    rc, _, err = run(capsys, "graph", str(boom))
    assert rc == 2 and "raised RuntimeError: boom at line 1" in err


def test_console_entry_point_exit_status(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "clflow.cli", "graph", str(tmp_path / "x.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "no Python file" in r.stderr and "Traceback" not in r.stderr
