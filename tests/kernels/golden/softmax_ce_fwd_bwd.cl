// launch %2: f32[] = fused_reduce.0[max+sub+exp+sum+log+..11] %0, %1 -> 2 outputs

#ifdef __clang__
#define sqrt_f(x) __builtin_sqrtf(x)
#else
#define sqrt_f(x) sqrt(x)
#endif
inline float max_nan(float a, float b) { return (a != a || b != b) ? NAN : (a > b ? a : b); }
inline float min_nan(float a, float b) { return (a != a || b != b) ? NAN : (a < b ? a : b); }
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
#define CPU_INLINE inline __attribute__((always_inline))
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

__kernel void fused_reduce_52b54588(__global float* restrict out0, __global float* restrict out1, __global const float* restrict in0, __global const float* restrict in1) {
  float part0[64];
  for (int j = 0; j < 64; ++j) part0[j] = 0;
  for (int rb = 0; rb < 32; rb += 8) {
    float acc0[8];
    float acc1[8];
    float v4[8];
    float acc5[8];
    float acc11[8];
    float v13[8];
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      acc0[l] = -INFINITY;
    }
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        acc0[l] = max_nan(acc0[l], in0[(k0)*10 + r1]);
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      acc1[l] = 0;
    }
    float v2s[10][8];
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const float v2 = (in0[(k0)*10 + r1] - acc0[l]);
        v2s[r1][l] = v2;
        const float v3 = exp_cpu(v2);
        acc1[l] += v3;
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      v4[l] = log_cpu(acc1[l]);
      acc5[l] = 0;
    }
    float v6s[10][8];
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const float v6 = ((-0.03125f) * in1[(k0)*10 + r1]);
        v6s[r1][l] = v6;
        acc5[l] += v6;
      }
    }
    float v7s[10][8];
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const float v7 = (v2s[r1][l] - v4[l]);
        v7s[r1][l] = v7;
        const float v8 = exp_cpu(v7);
        const float v9 = (v8 * acc5[l]);
        const float v10 = (v6s[r1][l] - v9);
        out1[k0 * 10 + r1 * 1] = v10;
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      acc11[l] = 0;
    }
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const float v12 = (in1[(k0)*10 + r1] * v7s[r1][l]);
        acc11[l] += v12;
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      v13[l] = (-acc11[l]);
      part0[rb % 64 + l] += v13[l];
    }
  }
  float tacc0 = 0;
  for (int j = 0; j < 64; ++j) tacc0 += part0[j];
  const float v14 = (tacc0 / 32.0f);
  out0[0] = v14;
}
