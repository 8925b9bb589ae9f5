// launch %5: f32[16,4] = fused_pointwise.0[mul+sub+mul+sub] %0, %1, %2, %3, %4 -> 2 outputs

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

__kernel void fused_pointwise_d8a37740(__global float* restrict out0, __global float* restrict out1, __global const float* restrict in0, __global const float* restrict in1, __global const float* restrict in2, __global const float* restrict in3, __global const float* restrict in4) {
  const int grp = get_group_id(0);
  if (grp < 1) {
    const int gid = (grp - 0) * 64 + (int)get_local_id(0);
    if (gid < 64) {
      const int c0 = gid / 4;
      const int c1 = (gid) % 4;
      const float v0 = (in0[0] * in1[(c0)*4 + c1]);
      const float v1 = (in2[(c0)*4 + c1] - v0);
      out0[gid] = v1;
    }
  }
  else if (grp < 2) {
    const int gid = (grp - 1) * 64 + (int)get_local_id(0);
    if (gid < 4) {
      const int c0 = gid;
      const float v0 = (in0[0] * in3[c0]);
      const float v1 = (in4[c0] - v0);
      out1[gid] = v1;
    }
  }
}
