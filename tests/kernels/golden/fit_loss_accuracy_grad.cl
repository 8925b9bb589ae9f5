// launch %5: f32[] = fused_reduce.0[max+sub+exp+sum+div+..33] %0, %3, %4 -> 3 outputs

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

__kernel void fused_reduce_ab1968d4(__global float* restrict out0, __global float* restrict out1, __global float* restrict out2, __global const float* restrict in0, __global const float* restrict in1, __global const int* restrict in2, __global const float* restrict in3) {
  const int lid = get_local_id(0);
  float tacc0 = 0;
  float tacc1 = 0;
  for (int rid = lid; rid < 32; rid += 64) {
    const int k0 = rid;
    const float v0 = (-in0[k0]);
    float acc1 = -INFINITY;
    for (int r1 = 0; r1 < 10; ++r1) {
      acc1 = max_nan(acc1, in1[(k0)*10 + r1]);
    }
    float acc2 = 0;
    float v4s[10];
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v3 = (in1[(k0)*10 + r1] - acc1);
      const float v4 = exp(v3);
      v4s[r1] = v4;
      acc2 += v4;
    }
    float acc5 = 0;
    float v6s[10];
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v6 = (v4s[r1] / acc2);
      v6s[r1] = v6;
      acc5 += v6;
    }
    float acc7 = 0;
    float v10s[10];
    float v16s[10];
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v8 = (v0 * in3[(clamp(in2[k0], 0, 255))*10 + r1]);
      const float v9 = (v6s[r1] / acc5);
      const float v10 = (v9 < 1e-07f ? 1e-07f : (v9 > 0.9999999f ? 0.9999999f : v9));
      v10s[r1] = v10;
      const float v11 = (v8 / v10);
      const uchar v12 = (v9 >= 1e-07f);
      const uchar v13 = (v9 <= 0.9999999f);
      const uchar v14 = ((v12 && v13) != 0);
      const float v15 = ((float)(v14));
      const float v16 = (v11 * v15);
      v16s[r1] = v16;
      const float v17 = (v16 * v9);
      const float v18 = (v17 / acc5);
      const float v19 = (-v18);
      acc7 += v19;
    }
    float acc20 = 0;
    float v23s[10];
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v21 = (v16s[r1] / acc5);
      const float v22 = (v21 + acc7);
      const float v23 = (v22 * v6s[r1]);
      v23s[r1] = v23;
      acc20 += v23;
    }
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v24 = (v6s[r1] * acc20);
      const float v25 = (v23s[r1] - v24);
      out2[k0 * 10 + r1 * 1] = v25;
    }
    float acc26 = 0;
    for (int r1 = 0; r1 < 10; ++r1) {
      const float v27 = log(v10s[r1]);
      const float v28 = (in3[(clamp(in2[k0], 0, 255))*10 + r1] * v27);
      acc26 += v28;
    }
    const float v29 = (-acc26);
    const float v30 = (v29 * in0[k0]);
    tacc0 += v30;
    float best31 = 0;
    int acc31 = 0;
    for (int r1 = 0; r1 < 10; ++r1) {
      if (r1 == 0 || in3[(clamp(in2[k0], 0, 255))*10 + r1] > best31) { best31 = in3[(clamp(in2[k0], 0, 255))*10 + r1]; acc31 = r1; }
    }
    float best32 = 0;
    int acc32 = 0;
    for (int r1 = 0; r1 < 10; ++r1) {
      if (r1 == 0 || v6s[r1] > best32) { best32 = v6s[r1]; acc32 = r1; }
    }
    const uchar v33 = (acc31 == acc32);
    const float v34 = ((float)(v33));
    const float v35 = (v34 * in0[k0]);
    tacc1 += v35;
  }
  __local float part0[64];
  part0[lid] = tacc0;
  __local float part1[64];
  part1[lid] = tacc1;
  barrier(CLK_LOCAL_MEM_FENCE);
  if (lid != 0) return;
  tacc0 = 0;
  for (int j = 0; j < 64; ++j) tacc0 += part0[j];
  tacc1 = 0;
  for (int j = 0; j < 64; ++j) tacc1 += part1[j];
  out0[0] = tacc0;
  out1[0] = tacc1;
}
