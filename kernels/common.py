"""Shared pieces of the generated OpenCL C: element types and the helper preamble."""

from __future__ import annotations

CTYPE = {"float32": "float", "int32": "int", "bool": "uchar"}

# Helpers the op templates call. NaN-propagating max/min like numpy and TF.js (fmax drops NaN),
# and floor division / modulo with Python's signs.
PREAMBLE = r"""
inline float max_nan(float a, float b) { return (isnan(a) || isnan(b)) ? NAN : (a > b ? a : b); }
inline float min_nan(float a, float b) { return (isnan(a) || isnan(b)) ? NAN : (a < b ? a : b); }
inline int floordiv_i(int a, int b) {
  if (b == 0) return 0;
  int q = a / b;
  return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline int mod_i(int a, int b) {
  if (b == 0) return 0;
  int r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
inline float mod_f(float a, float b) {
  float r = fmod(a, b);
  return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
}
inline int pow_i(int a, int b) {
  if (b < 0) return (a == 1) ? 1 : ((a == -1) ? ((b & 1) ? -1 : 1) : 0);
  int r = 1;
  while (b) { if (b & 1) r *= a; a *= a; b >>= 1; }
  return r;
}
"""


def c_literal(value: float | int | bool, dtype: str) -> str:
    """A C literal of ``dtype`` (inf and nan spelled as OpenCL macros)."""
    if dtype == "bool":
        return "1" if value else "0"
    if dtype == "int32":
        return str(int(value))
    v = float(value)
    if v != v:
        return "NAN"
    if v in (float("inf"), float("-inf")):
        return "INFINITY" if v > 0 else "(-INFINITY)"
    s = repr(v)
    if "e" not in s and "." not in s:
        s += ".0"
    return f"({s}f)" if v < 0 else f"{s}f"


def kernel_params(args: list[tuple[str, str, bool]]) -> str:
    """``__global`` parameters from (name, dtype, is_output) triples."""
    return ", ".join(
        f"__global {'' if out else 'const '}{CTYPE[dt]}* restrict {name}" for name, dt, out in args
    )


def render_pointwise(name: str, params: list[tuple[str, str, bool]], total: int, body: str) -> str:
    """A kernel with one work-item per output element ``gid`` in [0, total)."""
    return (
        f"{PREAMBLE}\n__kernel void {name}({kernel_params(params)}) {{\n"
        f"  const int gid = get_global_id(0);\n  if (gid >= {total}) return;\n{body}}}\n"
    )
