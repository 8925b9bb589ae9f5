"""Shared pieces of the generated OpenCL C: element types and the helper preamble."""

from __future__ import annotations

import re

CTYPE = {"float32": "float", "int32": "int", "bool": "uchar"}

# Helpers the op templates call. NaN-propagating max/min like numpy and TF.js (fmax drops NaN),
# and floor division / modulo with Python's signs. sqrt_f: clang's builtin is the same correctly
# rounded sqrt but inlines (pocl's sqrt is a library call, which stops vectorisation: the Adam
# update kernel ran 2x slower).
PREAMBLE = r"""
#ifdef __clang__
#define sqrt_f(x) __builtin_sqrtf(x)
#else
#define sqrt_f(x) sqrt(x)
#endif
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


# CPU row kernels run their rows in loops the compiler vectorises, which needs every call
# inlined: pocl keeps its builtins (isnan, clamp, exp, log) as calls. These helpers are plain C
# with the same results: exp and log repeat, operation for operation, pocl 3's scalar expf and
# SLEEF's logf_u10 (checked bit for bit on all 2^32 inputs, as vector code; contraction off so
# that no multiply-add is fused).
# Sources: pocl's kernel library (MIT licence) and SLEEF (https://sleef.org, Boost Software
# License 1.0); the constants and operation order are theirs.
CPU_PREAMBLE = (
    PREAMBLE.replace("(isnan(a) || isnan(b))", "(a != a || b != b)")
    + r"""#define CPU_INLINE inline __attribute__((always_inline))
CPU_INLINE int clamp_i(int x, int lo, int hi) { return x < lo ? lo : (x > hi ? hi : x); }
CPU_INLINE float exp_cpu(float x) {
  #pragma OPENCL FP_CONTRACT OFF
  const float t = x * 0x1.715476p+0f;
  const int q = (int)(t + (t < 0.0f ? -0.5f : 0.5f));
  const float qf = (float)q;
  float s = x - qf * 0x1.62e4p-1f;
  s = s - qf * 0x1.7f7d1cp-20f;
  float u = s * 0x1.a057b4p-13f + 0x1.6d2d92p-10f;
  u = s * u + 0x1.11114cp-7f;
  u = s * u + 0x1.5554f4p-5f;
  u = s * u + 0x1.555556p-3f;
  u = s * u + 0.5f;
  u = (s + (s * s) * u) + 1.0f;
  const int h = q >> 1;
  u = u * as_float(((uint)h << 23) + 0x3f800000u);
  u = u * as_float(((uint)(q - h) << 23) + 0x3f800000u);
  u = x < -104.0f ? 0.0f : u;
  return x > 104.0f ? INFINITY : u;
}
CPU_INLINE float log_cpu(float d) {
  #pragma OPENCL FP_CONTRACT OFF
  const int o = d < 0x1p-126f;
  const float x = o ? d * 0x1p64f : d;
  const uint e8 = (as_uint(x * 0x1.555556p+0f) >> 23) & 255u;
  const float m = as_float(as_uint(x) + 0x3f800000u - e8 * 0x800000u);
  const float fe = (float)((int)e8 + (o ? -191 : -127));
  const float nx = m + -1.0f, nv = nx + 1.0f;
  const float dx = m + 1.0f, dv = dx + -1.0f;
  const float t = 1.0f / dx;
  const float th = as_float(as_uint(t) & 0xfffff000u), tl = t - th;
  const float dh = as_float(as_uint(dx) & 0xfffff000u), dl = dx - dh;
  const float feh = as_float(as_uint(fe) & 0xfffff000u), fel = fe - feh;
  const float nh = as_float(as_uint(nx) & 0xfffff000u), nl = nx - nh;
  const float sx = fe * 0x1.62e43p-1f;
  const float qx = nx * t;
  const float x2 = qx * qx;
  float p = x2 * 0x1.35feb8p-2f + 0x1.993394p-2f;
  p = x2 * p + 0x1.5555b4p-1f;
  const float q2 = qx * 2.0f;
  const float a = sx + q2;
  const float c = (qx * x2) * p;
  const float b = a + c;
  const float ny = (m - nv) + ((nv - nx) + -1.0f);
  const float dy = (m - dv) + ((dv - dx) + 1.0f);
  const float w = (((1.0f - dh * th) - tl * dh) - dl * th) - dl * tl;
  const float s0 = ((fel * 0x1.0cp-15f) + ((fel * 0x1.62ep-1f) + ((feh * 0x1.0cp-15f)
                   + (0x1.62ep-1f * feh - sx)))) - fe * 0x1.05c61p-29f;
  const float s1 = ((nl * tl) + ((nl * th) + ((tl * nh) + (th * nh - qx)))) + qx * w;
  const float r0 = (q2 + (sx - a)) + s0;
  const float r1 = t * (ny - qx * dy) + s1;
  float r = b + ((c + (a - b)) + (r0 + r1 * 2.0f));
  r = (x != INFINITY && x != -INFINITY) ? r : INFINITY;
  r = (x < 0.0f || x != x) ? NAN : r;
  return x == 0.0f ? -INFINITY : r;
}
"""
)
_CPU_MATH = re.compile(r"\b(exp|log)\(")


def cpu_math(expr: str) -> str:
    """``expr`` calling CPU_PREAMBLE's inlinable exp and log instead of the builtins."""
    return _CPU_MATH.sub(lambda m: f"{m.group(1)}_cpu(", expr)


def cpu_index(expr: str) -> str:
    """A load expression whose index clamps (ints only) call CPU_PREAMBLE's clamp_i."""
    return re.sub(r"\bclamp\(", "clamp_i(", expr)


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
