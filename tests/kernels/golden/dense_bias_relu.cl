// launch %3: f32[32,32] = fused_dense[matmul+add+relu] %0, %1, %2 -> 1 outputs
#define M 32
#define N 32
#define K 784
#define TN 32

inline float gemm_epilogue(float acc, float e0) { return (((acc + e0) < 0.0f ? 0.0f : (acc + e0))); }

inline void store16(__global float* restrict C, __global const float* restrict E0, const int i, const int jb,
                    const float16 v) {
    const float16 tv = v;
    const float* t = (const float*)&tv;
    __global float* crow = C + (size_t)i * N;
    for (int c = 0; c < 16; ++c) {
        const int j = jb + c;
        if (j < N) crow[j] = gemm_epilogue(t[c], E0[j]);
    }
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void gemm_32x784x32_nn_9768997b(__global const float* restrict A, __global const float* restrict B,
            __global float* restrict C, __global const float* restrict E0) {
    const int j0 = get_global_id(0) * TN;
    const int i0 = get_global_id(1) * 8;
    if (i0 >= M) return;
    __global const float* a0 = A + (size_t)(i0 + 0) * K;
    __global const float* a1 = A + (size_t)(i0 + 1) * K;
    __global const float* a2 = A + (size_t)(i0 + 2) * K;
    __global const float* a3 = A + (size_t)(i0 + 3) * K;
    __global const float* a4 = A + (size_t)(i0 + 4) * K;
    __global const float* a5 = A + (size_t)(i0 + 5) * K;
    __global const float* a6 = A + (size_t)(i0 + 6) * K;
    __global const float* a7 = A + (size_t)(i0 + 7) * K;
    float16 c0_0 = (float16)(0.0f), c0_1 = (float16)(0.0f), c1_0 = (float16)(0.0f), c1_1 = (float16)(0.0f), c2_0 = (float16)(0.0f), c2_1 = (float16)(0.0f), c3_0 = (float16)(0.0f), c3_1 = (float16)(0.0f), c4_0 = (float16)(0.0f), c4_1 = (float16)(0.0f), c5_0 = (float16)(0.0f), c5_1 = (float16)(0.0f), c6_0 = (float16)(0.0f), c6_1 = (float16)(0.0f), c7_0 = (float16)(0.0f), c7_1 = (float16)(0.0f);
#pragma unroll 4
    for (int k = 0; k < K; ++k) {
        const float16 b0 = *(__global const float16*)(B + k * N + j0 + 0);
        const float16 b1 = *(__global const float16*)(B + k * N + j0 + 16);
        { const float a = a0[k]; c0_0 += a * b0; c0_1 += a * b1; }
        { const float a = a1[k]; c1_0 += a * b0; c1_1 += a * b1; }
        { const float a = a2[k]; c2_0 += a * b0; c2_1 += a * b1; }
        { const float a = a3[k]; c3_0 += a * b0; c3_1 += a * b1; }
        { const float a = a4[k]; c4_0 += a * b0; c4_1 += a * b1; }
        { const float a = a5[k]; c5_0 += a * b0; c5_1 += a * b1; }
        { const float a = a6[k]; c6_0 += a * b0; c6_1 += a * b1; }
        { const float a = a7[k]; c7_0 += a * b0; c7_1 += a * b1; }
    }
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
