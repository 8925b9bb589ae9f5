"""The ``clflow`` command: ``clflow devices``, ``clflow graph TARGET`` and ``clflow tune``.

Bad input (a missing or corrupt model, a script that raises, an unknown stage or format) ends
with one clear line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .dump import FORMATS, INSTALL_GRAPHVIZ


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="clflow", description="clflow: neural networks on any OpenCL device."
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("devices", help="list OpenCL platforms and devices (* marks the default)")
    g = sub.add_parser(
        "graph",
        help="show a model's train step at every compiler stage",
        description="Show every stage of what TARGET compiles: traced graph (forward), "
        "autodiff (the train step), each compiler pass, and the final kernels.",
        epilog="examples:\n  clflow graph my-model/ --stage kernels\n"
        "  clflow graph my-model/model.json --format html --out step.html --profile 10\n"
        "  clflow graph train.py --format svg --out step.svg\n"
        "  clflow graph mypkg.models:build",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument(
        "target",
        help="a saved model (directory or model.json), a Python file, or "
        "module:function that builds a model or runs a training step",
    )
    g.add_argument(
        "--stage",
        default="all",
        help="'all' (default) or one stage: forward, autodiff (or traced), a pass name, kernels",
    )
    g.add_argument(
        "--format",
        default="text",
        help=f"one of {', '.join(FORMATS)} "
        "(default text; dot and svg draw one stage, 'all' meaning kernels)",
    )
    g.add_argument("--out", metavar="PATH", help="write there instead of standard output")
    g.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="run N steps with OpenCL profiling; annotate kernels with their times "
        "and print the kernels sorted by time",
    )
    g.add_argument(
        "--exe",
        type=int,
        default=None,
        metavar="K",
        help="for dot/svg: which compiled executable to draw (default: the biggest train step)",
    )
    g.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="batch size of the synthetic batch a model is traced on (default 32)",
    )
    t = sub.add_parser(
        "tune",
        help="time GEMM tile parameters on the device and cache the fastest",
        description="Time a few GEMM tile-parameter candidates on representative shapes on "
        "the device clflow uses (CLFLOW_DEVICE picks it), print GFLOP/s per candidate and "
        "store the fastest in $CLFLOW_CACHE_DIR/tuned_params.json (default ~/.cache/clflow), "
        "keyed by platform, device and driver; later processes plan their GEMMs with it.",
        epilog="examples:\n  clflow tune\n  clflow tune --shapes 2048x2048x2048 "
        "784x512x128:tn --reps 9\n  clflow tune --forget",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument(
        "--shapes",
        nargs="+",
        metavar="MxNxK[:AB]",
        help="GEMM shapes to time; the optional :AB suffix says which operands are "
        "transposed, e.g. 784x512x128:tn (default: a square 1024 and an MLP's GEMMs)",
    )
    t.add_argument("--reps", type=int, default=5, help="timed samples per candidate (default 5)")
    t.add_argument("--no-save", action="store_true", help="only print, keep the cache as is")
    t.add_argument("--forget", action="store_true", help="remove this device's stored parameters")
    return p


def _parse_shape(text: str) -> tuple[int, int, int, bool, bool]:
    """'MxNxK' or 'MxNxK:AB' (A, B each 'n' or 't') as plan_gemm's (m, n, k, trans_a, trans_b)."""
    dims, _, trans = text.lower().partition(":")
    parts = dims.split("x")
    trans = trans or "nn"
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"bad shape {text!r}: expected MxNxK of positive ints, e.g. 1024x512x784")
    if len(trans) != 2 or set(trans) - {"n", "t"}:
        raise ValueError(f"bad shape {text!r}: the suffix after ':' must be nn, nt, tn or tt")
    m, n, k = map(int, parts)
    return m, n, k, trans[0] == "t", trans[1] == "t"


def _tune(a: argparse.Namespace) -> int:
    from . import engine, tune

    try:
        shapes = [_parse_shape(s) for s in a.shapes] if a.shapes else None
    except ValueError as e:
        return _fail(str(e))
    if a.reps < 1:
        return _fail(f"--reps must be >= 1, got {a.reps}")
    try:
        device = engine.device()
        if a.forget:
            gone = tune.forget(device)
            print(
                f"{'removed' if gone else 'no'} stored parameters for {tune.device_key(device)}"
                f" in {tune.cache_path()}"
            )
            return 0
        tune.tune(device, shapes=shapes, reps=a.reps, save=not a.no_save)
    except Exception as e:  # no device, a build failure, an unwritable cache: one clear line
        return _fail(f"tune failed: {type(e).__name__}: {e}")
    return 0


def _fail(msg: str) -> int:
    print(f"clflow: error: {msg}", file=sys.stderr)
    return 2


def _devices() -> int:
    from .runtime import describe_devices

    try:
        print(describe_devices())
    except Exception as e:  # no OpenCL platform at all: say so plainly
        return _fail(f"cannot list OpenCL devices: {type(e).__name__}: {e}")
    return 0


def _graph(a: argparse.Namespace) -> int:
    from . import dump
    from .dump_targets import collect

    if a.format not in FORMATS:
        return _fail(f"unknown format {a.format!r}; expected one of {', '.join(FORMATS)}")
    if a.profile < 0 or a.batch_size < 1:
        return _fail("--profile must be >= 0 and --batch-size >= 1")
    try:
        dumps = collect(a.target, a.batch_size)
        dump._check(dumps, a.stage, a.format)
        if a.profile:
            dump.profile_runs(dumps, a.profile)
        out, note = a.out, None
        try:
            text = dump.render(dumps, a.stage, a.format, a.exe)
        except dump.NoGraphviz as e:
            text = e.dot_text
            out = str(Path(a.out).with_suffix(".dot")) if a.out else None
            note = (
                f"Graphviz 'dot' was not found, so this is DOT, not SVG: {INSTALL_GRAPHVIZ}; "
                "then run: dot -Tsvg " + (out or "graph.dot") + " -o graph.svg"
            )
    except dump.DumpError as e:
        return _fail(str(e))
    if out:
        try:
            Path(out).write_text(text)
        except OSError as e:
            return _fail(f"cannot write '{out}': {e}")
        print(
            f"wrote {out} ({a.format if note is None else 'dot'}, {len(dumps)} "
            f"executable{'s' if len(dumps) != 1 else ''})",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    if note:
        print(f"clflow: note: {note}", file=sys.stderr)
    if a.profile:
        # Beside text it belongs on stdout; beside JSON/DOT/HTML there it would corrupt them.
        to_stdout = bool(out) or a.format == "text"
        print(dump.profile_table(dumps), file=sys.stdout if to_stdout else sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clflow`` console script.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Example:
        >>> main(["devices"])  # doctest: +SKIP
        0
    """
    parser = _parser()
    a = parser.parse_args(argv)
    if a.command == "devices":
        return _devices()
    if a.command == "graph":
        return _graph(a)
    if a.command == "tune":
        return _tune(a)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
