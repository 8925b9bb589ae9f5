// launch %3: f32[32,32] = fused_dense[matmul+add+relu] %0, %1, %2 -> 1 outputs
#define M 32
#define N 32
#define K 784
#define TM 8
#define TN 32
#define KB 784
#define WG 1
#define MD 1

inline float gemm_epilogue(float acc, float e0) { return (((acc + e0) < 0.0f ? 0.0f : (acc + e0))); }

inline void store16(__global float* restrict C, __global const float* restrict E0, const int i,
                    const int jb, const float16 v) {
    __global float* crow = C + (size_t)i * N + jb;
    if (jb >= N) return;
    const float16 tv = v;
    const float* t = (const float*)&tv;
    for (int c = 0; c < 16; ++c) crow[c] = gemm_epilogue(t[c], E0[jb + c]);
}


__kernel __attribute__((reqd_work_group_size(1, WG, 1)))
void gemm_32x784x32_nn_39a3acc2(__global const float* restrict A, __global const float* restrict B,
            __global float* restrict C, __global const float* restrict E0) {
    const int lid = get_local_id(MD);
    const int j0 = get_group_id(1 - MD) * TN;
    const int i0 = get_global_id(MD) * TM;
    __global const float* a0 = A + (size_t)((i0 + 0 < M ? i0 + 0 : M - 1)) * K;
    __global const float* a1 = A + (size_t)((i0 + 1 < M ? i0 + 1 : M - 1)) * K;
    __global const float* a2 = A + (size_t)((i0 + 2 < M ? i0 + 2 : M - 1)) * K;
    __global const float* a3 = A + (size_t)((i0 + 3 < M ? i0 + 3 : M - 1)) * K;
    __global const float* a4 = A + (size_t)((i0 + 4 < M ? i0 + 4 : M - 1)) * K;
    __global const float* a5 = A + (size_t)((i0 + 5 < M ? i0 + 5 : M - 1)) * K;
    __global const float* a6 = A + (size_t)((i0 + 6 < M ? i0 + 6 : M - 1)) * K;
    __global const float* a7 = A + (size_t)((i0 + 7 < M ? i0 + 7 : M - 1)) * K;
    float16 c0_0 = (float16)(0.0f), c0_1 = (float16)(0.0f), c1_0 = (float16)(0.0f), c1_1 = (float16)(0.0f), c2_0 = (float16)(0.0f), c2_1 = (float16)(0.0f), c3_0 = (float16)(0.0f), c3_1 = (float16)(0.0f), c4_0 = (float16)(0.0f), c4_1 = (float16)(0.0f), c5_0 = (float16)(0.0f), c5_1 = (float16)(0.0f), c6_0 = (float16)(0.0f), c6_1 = (float16)(0.0f), c7_0 = (float16)(0.0f), c7_1 = (float16)(0.0f);
    {
        const int k0 = 0, kn = K;
        if (i0 < M) {
#pragma unroll 4
        for (int kk = 0; kk < kn; ++kk) {
            const int k = k0 + kk;
            const float16 b0 = *(__global const float16*)(B + (size_t)k * N + j0 + 0);
            const float16 b1 = *(__global const float16*)(B + (size_t)k * N + j0 + 16);
            { const float a = a0[k]; c0_0 += a * b0; c0_1 += a * b1; }
            { const float a = a1[k]; c1_0 += a * b0; c1_1 += a * b1; }
            { const float a = a2[k]; c2_0 += a * b0; c2_1 += a * b1; }
            { const float a = a3[k]; c3_0 += a * b0; c3_1 += a * b1; }
            { const float a = a4[k]; c4_0 += a * b0; c4_1 += a * b1; }
            { const float a = a5[k]; c5_0 += a * b0; c5_1 += a * b1; }
            { const float a = a6[k]; c6_0 += a * b0; c6_1 += a * b1; }
            { const float a = a7[k]; c7_0 += a * b0; c7_1 += a * b1; }
        }
        }
    }
    if (i0 < M) {
    store16(C, E0, i0 + 0, j0 + 0, c0_0);
    store16(C, E0, i0 + 0, j0 + 16, c0_1);
    store16(C, E0, i0 + 1, j0 + 0, c1_0);
    store16(C, E0, i0 + 1, j0 + 16, c1_1);
    store16(C, E0, i0 + 2, j0 + 0, c2_0);
    store16(C, E0, i0 + 2, j0 + 16, c2_1);
    store16(C, E0, i0 + 3, j0 + 0, c3_0);
    store16(C, E0, i0 + 3, j0 + 16, c3_1);
    store16(C, E0, i0 + 4, j0 + 0, c4_0);
    store16(C, E0, i0 + 4, j0 + 16, c4_1);
    store16(C, E0, i0 + 5, j0 + 0, c5_0);
    store16(C, E0, i0 + 5, j0 + 16, c5_1);
    store16(C, E0, i0 + 6, j0 + 0, c6_0);
    store16(C, E0, i0 + 6, j0 + 16, c6_1);
    store16(C, E0, i0 + 7, j0 + 0, c7_0);
    store16(C, E0, i0 + 7, j0 + 16, c7_1);
    }
}
