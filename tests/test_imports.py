"""The import arrows of DESIGN.md: compiler never imports pyopencl or the api; runtime never
imports compiler or api; kernels import nothing of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_OF = {
    "api": "clflow",
    "compiler": "clflow.compiler",
    "runtime": "clflow.runtime",
    "kernels": "clflow.kernels",
}
ALLOWED = {
    "compiler": {"clflow.compiler", "clflow.kernels"},
    "runtime": {"clflow.runtime"},
    "kernels": {"clflow.kernels"},
}
FORBIDDEN_THIRD_PARTY = {"compiler": {"pyopencl"}, "kernels": {"pyopencl"}}


def imports_of(path: Path, folder: str, root: Path = ROOT) -> list[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    rel = path.relative_to(root / folder).with_suffix("")
    parts = PACKAGE_OF[folder].split(".") + list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    pkg = parts if path.name == "__init__.py" else parts[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    out += [f"{mod}.{a.name}" for a in node.names]
                else:
                    out.append(mod)
            else:
                out.append(node.module)
    return out


def ours(module: str) -> str | None:
    """The clflow package a module belongs to (clflow itself means the api)."""
    if not module.startswith("clflow"):
        return None
    for pkg in ("clflow.compiler", "clflow.runtime", "clflow.kernels"):
        if module == pkg or module.startswith(pkg + "."):
            return pkg
    return "clflow"


@pytest.mark.parametrize("folder", ["compiler", "runtime", "kernels"])
def test_import_direction(folder):
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for mod in imports_of(path, folder):
            pkg = ours(mod)
            if pkg is not None and pkg not in ALLOWED[folder]:
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
            if mod.split(".")[0] in FORBIDDEN_THIRD_PARTY.get(folder, ()):
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not bad, "import arrows of DESIGN.md broken:\n" + "\n".join(bad)


def test_checker_sees_a_violation(tmp_path):
    """The walker resolves relative imports: `from .. import engine` in compiler/ is the api."""
    (tmp_path / "compiler").mkdir()
    f = tmp_path / "compiler" / "x.py"
    f.write_text("from .. import engine\nfrom ..runtime import device\nfrom .ir import Node\n")
    mods = imports_of(f, "compiler", tmp_path)
    assert [ours(m) for m in mods] == ["clflow", "clflow.runtime", "clflow.compiler"]
