// launch %2: f32[] = fused_reduce.0[max+sub+exp+sum+log+..11] %0, %1 -> 2 outputs

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

__kernel void fused_reduce_19b715d3(__global float* restrict out0, __global float* restrict out1, __global const float* restrict in0, __global const float* restrict in1) {
  const int gid = get_global_id(0);
  if (gid != 0) return;
  float tacc0 = 0;
  for (int rid = 0; rid < 32; ++rid) {
    const int k0 = rid;
    float acc0 = -INFINITY;
    for (int r1 = 0; r1 < 10; ++r1) {
      acc0 = max_nan(acc0, in0[(k0)*10 + r1]);
    }
    float acc1 = 0;
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v2 = (in0[(k0)*10 + r1] - acc0);
      const float v3 = exp(v2);
      acc1 += v3;
    }
    const float v4 = log(acc1);
    float acc5 = 0;
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v6 = ((-0.03125f) * in1[(k0)*10 + r1]);
      acc5 += v6;
    }
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v7 = ((-0.03125f) * in1[(k0)*10 + r1]);
      const float v8 = (in0[(k0)*10 + r1] - acc0);
      const float v9 = (v8 - v4);
      const float v10 = exp(v9);
      const float v11 = (v10 * acc5);
      const float v12 = (v7 - v11);
      out1[k0 * 10 + r1 * 1] = v12;
    }
    float acc13 = 0;
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v14 = (in0[(k0)*10 + r1] - acc0);
      const float v15 = (v14 - v4);
      const float v16 = (in1[(k0)*10 + r1] * v15);
      acc13 += v16;
    }
    const float v17 = (-acc13);
    tacc0 += v17;
  }
  const float v18 = (tacc0 / 32.0f);
  out0[0] = v18;
}
