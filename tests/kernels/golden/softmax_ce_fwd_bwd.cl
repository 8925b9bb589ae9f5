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

__kernel void fused_reduce_56654baa(__global float* restrict out0, __global float* restrict out1, __global const float* restrict in0, __global const float* restrict in1) {
  const int lid = get_local_id(0);
  float tacc0 = 0;
  for (int rid = lid; rid < 32; rid += 64) {
    const int k0 = rid;
    float acc0 = -INFINITY;
    for (int r1 = 0; r1 < 10; ++r1) {
      acc0 = max_nan(acc0, in0[(k0)*10 + r1]);
    }
    float acc1 = 0;
    float v2s[10];
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v2 = (in0[(k0)*10 + r1] - acc0);
      v2s[r1] = v2;
      const float v3 = exp(v2);
      acc1 += v3;
    }
    const float v4 = log(acc1);
    float acc5 = 0;
    float v6s[10];
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v6 = ((-0.03125f) * in1[(k0)*10 + r1]);
      v6s[r1] = v6;
      acc5 += v6;
    }
    float v7s[10];
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v7 = (v2s[r1] - v4);
      v7s[r1] = v7;
      const float v8 = exp(v7);
      const float v9 = (v8 * acc5);
      const float v10 = (v6s[r1] - v9);
      out1[k0 * 10 + r1 * 1] = v10;
    }
    float acc11 = 0;
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v12 = (in1[(k0)*10 + r1] * v7s[r1]);
      acc11 += v12;
    }
    const float v13 = (-acc11);
    tacc0 += v13;
  }
  __local float part0[64];
  part0[lid] = tacc0;
  barrier(CLK_LOCAL_MEM_FENCE);
  if (lid != 0) return;
  tacc0 = 0;
  for (int j = 0; j < 64; ++j) tacc0 += part0[j];
  const float v14 = (tacc0 / 32.0f);
  out0[0] = v14;
}
