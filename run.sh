#!/usr/bin/env bash
# The two commands of the README:
#   bash run.sh        train the guide's model on the default OpenCL device (the main job)
#   bash run.sh test   lint and run the whole test suite
# Each creates .venv and installs clflow with what it needs on first use (pyopencl[pocl] brings
# a CPU OpenCL device, so nothing else has to be on the machine).
set -euo pipefail
cd "$(dirname "$0")"
venv="${CLFLOW_VENV:-.venv}"
stamp="$venv/.clflow-installed"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "clflow: installing into $venv (first run only) ..." >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q -e ".[test]"
    touch "$stamp"
fi
cmd="${1:-main}"
[ $# -gt 0 ] && shift
case "$cmd" in
    main) exec "$venv/bin/python" examples/train_models.py "$@" ;;
    test)
        "$venv/bin/ruff" check .
        "$venv/bin/ruff" format --check . >/dev/null || {
            "$venv/bin/ruff" format --check . | head -20; exit 1; }
        exec "$venv/bin/python" -m pytest "$@" ;;
    *) echo "usage: bash run.sh [main|test] [args...]" >&2; exit 2 ;;
esac
