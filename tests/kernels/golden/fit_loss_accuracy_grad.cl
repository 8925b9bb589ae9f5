// launch %5: f32[] = fused_reduce.0[max+sub+exp+sum+div+..33] %0, %3, %4 -> 3 outputs

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

__kernel void fused_reduce_d82ff7c9(__global float* restrict out0, __global float* restrict out1, __global float* restrict out2, __global const float* restrict in0, __global const float* restrict in1, __global const int* restrict in2, __global const float* restrict in3) {
  float part0[64];
  float part1[64];
  for (int j = 0; j < 64; ++j) part0[j] = 0;
  for (int j = 0; j < 64; ++j) part1[j] = 0;
  for (int rb = 0; rb < 32; rb += 8) {
    float v0[8];
    float acc1[8];
    float acc2[8];
    float acc5[8];
    float acc7[8];
    float acc20[8];
    float acc26[8];
    float v29[8];
    float v30[8];
    float best31[8];
    int acc31[8];
    float best32[8];
    int acc32[8];
    uchar v33[8];
    float v34[8];
    float v35[8];
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      v0[l] = (-in0[k0]);
      acc1[l] = -INFINITY;
    }
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        acc1[l] = max_nan(acc1[l], in1[(k0)*10 + r1]);
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      acc2[l] = 0;
    }
    float v4s[10][8];
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const float v3 = (in1[(k0)*10 + r1] - acc1[l]);
        const float v4 = exp_cpu(v3);
        v4s[r1][l] = v4;
        acc2[l] += v4;
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      acc5[l] = 0;
    }
    float v6s[10][8];
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const float v6 = (v4s[r1][l] / acc2[l]);
        v6s[r1][l] = v6;
        acc5[l] += v6;
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      acc7[l] = 0;
    }
    float v10s[10][8];
    float v16s[10][8];
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const float v8 = (v0[l] * in3[(clamp_i(in2[k0], 0, 255))*10 + r1]);
        const float v9 = (v6s[r1][l] / acc5[l]);
        const float v10 = (v9 < 1e-07f ? 1e-07f : (v9 > 0.9999999f ? 0.9999999f : v9));
        v10s[r1][l] = v10;
        const float v11 = (v8 / v10);
        const uchar v12 = (v9 >= 1e-07f);
        const uchar v13 = (v9 <= 0.9999999f);
        const uchar v14 = ((v12 && v13) != 0);
        const float v15 = ((float)(v14));
        const float v16 = (v11 * v15);
        v16s[r1][l] = v16;
        const float v17 = (v16 * v9);
        const float v18 = (v17 / acc5[l]);
        const float v19 = (-v18);
        acc7[l] += v19;
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      acc20[l] = 0;
    }
    float v23s[10][8];
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const float v21 = (v16s[r1][l] / acc5[l]);
        const float v22 = (v21 + acc7[l]);
        const float v23 = (v22 * v6s[r1][l]);
        v23s[r1][l] = v23;
        acc20[l] += v23;
      }
    }
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const float v24 = (v6s[r1][l] * acc20[l]);
        const float v25 = (v23s[r1][l] - v24);
        out2[k0 * 10 + r1 * 1] = v25;
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      acc26[l] = 0;
    }
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const float v27 = log_cpu(v10s[r1][l]);
        const float v28 = (in3[(clamp_i(in2[k0], 0, 255))*10 + r1] * v27);
        acc26[l] += v28;
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      v29[l] = (-acc26[l]);
      v30[l] = (v29[l] * in0[k0]);
      best31[l] = 0;
      acc31[l] = 0;
    }
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const int hit = r1 == 0 || in3[(clamp_i(in2[k0], 0, 255))*10 + r1] > best31[l];
        best31[l] = hit ? in3[(clamp_i(in2[k0], 0, 255))*10 + r1] : best31[l];
        acc31[l] = hit ? r1 : acc31[l];
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      best32[l] = 0;
      acc32[l] = 0;
    }
    for (int r1 = 0; r1 < 10; ++r1) {
      for (int l = 0; l < 8; ++l) {
        const int rid = rb + l;
        const int k0 = rid;
        const int hit = r1 == 0 || v6s[r1][l] > best32[l];
        best32[l] = hit ? v6s[r1][l] : best32[l];
        acc32[l] = hit ? r1 : acc32[l];
      }
    }
    for (int l = 0; l < 8; ++l) {
      const int rid = rb + l;
      const int k0 = rid;
      v33[l] = (acc31[l] == acc32[l]);
      v34[l] = ((float)(v33[l]));
      v35[l] = (v34[l] * in0[k0]);
      part0[rb % 64 + l] += v30[l];
      part1[rb % 64 + l] += v35[l];
    }
  }
  float tacc0 = 0;
  for (int j = 0; j < 64; ++j) tacc0 += part0[j];
  float tacc1 = 0;
  for (int j = 0; j < 64; ++j) tacc1 += part1[j];
  out0[0] = tacc0;
  out1[0] = tacc1;
}
