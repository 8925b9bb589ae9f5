"""Reduction kernels: one work-item per output element, nested loops over the reduced axes."""

from __future__ import annotations

from .common import CTYPE, PREAMBLE, kernel_params


def _combine(op: str, dtype: str) -> str:
    if op == "sum":
        return "acc = acc + v;"
    if op == "prod":
        return "acc = acc * v;"
    if op in ("max", "min"):
        f = op if dtype != "float32" else f"{op}_nan"
        return f"acc = {f}(acc, v);"
    if op == "any":
        return "acc = acc || v;"
    if op == "all":
        return "acc = acc && v;"
    raise ValueError(op)


def fold_stmt(op: str, dtype: str, acc: str, v: str) -> str:
    """The C statement folding ``v`` into ``acc`` for a sum, prod, max or min of ``dtype``."""
    if op == "sum":
        return f"{acc} += {v};"
    if op == "prod":
        return f"{acc} *= {v};"
    f = op + ("_nan" if dtype == "float32" else "")
    return f"{acc} = {f}({acc}, {v});"


def init_value(init: str, dtype: str) -> str:
    """An accumulator's start ``init`` for ``dtype`` (ints cannot start at +-INFINITY)."""
    if dtype == "float32":
        return init
    return {"-INFINITY": "INT_MIN", "INFINITY": "INT_MAX"}.get(init, init)


def render_reduce(
    op: str, in_dtype: str, out_dtype: str, view, axes: tuple[int, ...], init: str
) -> tuple[str, int]:
    """Source reducing ``view`` (shape, strides, offset) over ``axes``; returns (src, outputs).

    argmax / argmin take a single axis and keep the first extreme (NaN is skipped like TF.js).
    """
    kept = [i for i in range(len(view.shape)) if i not in axes]
    total = 1
    for i in kept:
        total *= view.shape[i]
    lines = []
    terms = [str(view.offset)] if view.offset else []
    inner = 1
    for i in reversed(kept):
        s, st = view.shape[i], view.strides[i]
        if s != 1 and st != 0:
            comp = "gid" if inner == 1 else f"(gid / {inner})"
            if i != kept[0]:
                comp = f"({comp} % {s})"
            terms.append(f"{comp} * {st}")
        inner *= s
    lines.append(f"  const int base = {' + '.join(terms) if terms else '0'};")
    acc_t = CTYPE[out_dtype]
    arg = op in ("argmax", "argmin")
    if arg:
        cmp = ">" if op == "argmax" else "<"
        init = "-INFINITY" if op == "argmax" else "INFINITY"
        if in_dtype != "float32":
            init = "INT_MIN" if op == "argmax" else "INT_MAX"
        lines.append(f"  {CTYPE[in_dtype]} best = {init}; int besti = 0; int first = 1;")
    else:
        init = init_value(init, out_dtype)
        lines.append(f"  {acc_t} acc = {init};")
    depth, off = 0, ["base"]
    for i in axes:
        s, st = view.shape[i], view.strides[i]
        lines.append(f"  {'  ' * depth}for (int r{i} = 0; r{i} < {s}; ++r{i}) {{")
        off.append(f"r{i} * {st}")
        depth += 1
    pad = "  " * (depth + 1)
    lines.append(f"{pad}const {acc_t if not arg else CTYPE[in_dtype]} v = src[{' + '.join(off)}];")
    if arg:
        (ax,) = axes
        lines.append(f"{pad}if (first || v {cmp} best) {{ best = v; besti = r{ax}; first = 0; }}")
    else:
        lines.append(f"{pad}{_combine(op, in_dtype)}")
    for d in reversed(range(depth)):
        lines.append(f"  {'  ' * d}}}")
    lines.append(f"  out0[gid] = {'besti' if arg else 'acc'};")
    params = kernel_params([("out0", out_dtype, True), ("src", in_dtype, False)])
    src = (
        f"{PREAMBLE}\n__kernel void KNAME({params}) {{\n  const int gid = get_global_id(0);\n"
        f"  if (gid >= {total}) return;\n" + "\n".join(lines) + "\n}\n"
    )
    return src, total
