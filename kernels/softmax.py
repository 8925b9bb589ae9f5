"""Row-wise softmax / log-softmax over the last axis: one work-item per row, max-shifted."""

from __future__ import annotations

from .common import PREAMBLE


def render_softmax(rows: int, d: int, log: bool = False) -> str:
    """Source of a kernel (out, x) over ``rows`` contiguous rows of ``d`` floats."""
    store = "s - lse" if log else "exp(s) * inv"
    tail = "  const float lse = log(sum);\n" if log else "  const float inv = 1.0f / sum;\n"
    return (
        f"{PREAMBLE}\n__kernel void KNAME(__global float* restrict out, "
        "__global const float* restrict x) {\n"
        f"  const int r = get_global_id(0);\n  if (r >= {rows}) return;\n"
        f"  const __global float* p = x + r * {d};\n  __global float* q = out + r * {d};\n"
        "  float m = -INFINITY;\n"
        f"  for (int j = 0; j < {d}; ++j) m = max_nan(m, p[j]);\n"
        "  float sum = 0.0f;\n"
        f"  for (int j = 0; j < {d}; ++j) sum += exp(p[j] - m);\n"
        f"{tail}"
        f"  for (int j = 0; j < {d}; ++j) {{ const float s = p[j] - m; q[j] = {store}; }}\n"
        "}\n"
    )
