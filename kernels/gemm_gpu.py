"""The GEMM for GPU devices: local-memory tiles, each work-item a small register block.

Shares gemm.py's epilogue, index and parameter helpers; ``plan_gemm`` picks this variant for
every device kind other than 'cpu'. Untested on a real GPU in this project's CI: the kernel
runs (and is checked against numpy) on pocl.
"""

from __future__ import annotations

from .gemm import (
    GemmLaunch,
    GemmPlan,
    _cs_def,
    _defines,
    _epi_call,
    _epi_def,
    _extra_args,
    _extra_params,
    _gather_defs,
    _ia_param,
)


def render_gpu(*, name, m, n, k, trans_a, trans_b, wg, rm, rn, tk, epi, cs=None, rows=None) -> str:
    """__local-memory tiled kernel: each work-item computes an rm x rn strided micro-tile.

    ``rows``: A is gathered, its stored row count (row IA[i], or IA[k] when trans_a).
    """
    if trans_a:  # A[k][i]: consecutive work-items read consecutive i
        row = "ROW_A(IA[k])" if rows is not None else "k"
        a_idx, a_src = "ii = l % TILE_M, kk = l / TILE_M", f"A[(size_t)({row}) * M + i]"
    else:
        row = "ROW_A(IA[i])" if rows is not None else "i"
        a_idx, a_src = "kk = l % TK, ii = l / TK", f"A[(size_t)({row}) * K + k]"
    if trans_b:
        b_idx, b_src = "kk = l % TK, jj = l / TK", "B[(size_t)j * K + k]"
    else:
        b_idx, b_src = "jj = l % TILE_N, kk = l / TILE_N", "B[(size_t)k * N + j]"
    colsum = ""
    if cs is not None:  # the first row of work-items also sums op(B) over k per column
        colsum = f"""    if (get_group_id(1) == 0 && ty == 0) {{
        for (int c = 0; c < RN; ++c) {{
            const int j = j0 + tx + c * WGX;
            if (j < N) {{
                float s = 0.0f;
                for (int k = 0; k < K; ++k) s += {b_src};
                S[j] = {_epi_call(cs, "s", "0", "j", "gemm_colsum", "F")};
            }}
        }}
    }}
"""
    return f"""{_defines(M=m, N=n, K=k, TK=tk, RM=rm, RN=rn, WGX=wg[0], WGY=wg[1])}
#define TILE_M (WGY * RM)
#define TILE_N (WGX * RN)
{_gather_defs(rows)}{_epi_def(epi)}{_cs_def(cs)}
__kernel __attribute__((reqd_work_group_size(WGX, WGY, 1)))
void {name}(__global const float* restrict A{_ia_param(rows)}, __global const float* restrict B,
            __global float* restrict C{_extra_params(epi, cs)}) {{
    const int tx = get_local_id(0), ty = get_local_id(1), lid = ty * WGX + tx;
    const int i0 = get_group_id(1) * TILE_M, j0 = get_group_id(0) * TILE_N;
    __local float As[TK][TILE_M + 1];
    __local float Bs[TK][TILE_N + 1];
    float acc[RM][RN];
    for (int r = 0; r < RM; ++r)
        for (int c = 0; c < RN; ++c) acc[r][c] = 0.0f;
    for (int kt = 0; kt < K; kt += TK) {{
        for (int l = lid; l < TK * TILE_M; l += WGX * WGY) {{
            const int {a_idx};
            const int i = i0 + ii, k = kt + kk;
            As[kk][ii] = (i < M && k < K) ? {a_src} : 0.0f;
        }}
        for (int l = lid; l < TK * TILE_N; l += WGX * WGY) {{
            const int {b_idx};
            const int j = j0 + jj, k = kt + kk;
            Bs[kk][jj] = (j < N && k < K) ? {b_src} : 0.0f;
        }}
        barrier(CLK_LOCAL_MEM_FENCE);
#pragma unroll
        for (int kk = 0; kk < TK; ++kk) {{
            float a[RM], b[RN];
            for (int r = 0; r < RM; ++r) a[r] = As[kk][ty + r * WGY];
            for (int c = 0; c < RN; ++c) b[c] = Bs[kk][tx + c * WGX];
            for (int r = 0; r < RM; ++r)
                for (int c = 0; c < RN; ++c) acc[r][c] += a[r] * b[c];
        }}
        barrier(CLK_LOCAL_MEM_FENCE);
    }}
    for (int r = 0; r < RM; ++r) {{
        const int i = i0 + ty + r * WGY;
        for (int c = 0; c < RN; ++c) {{
            const int j = j0 + tx + c * WGX;
            if (i < M && j < N) C[(size_t)i * N + j] = {_epi_call(epi, "acc[r][c]", "i", "j")};
        }}
    }}
{colsum}}}
"""


def gpu_plan(m, n, k, trans_a, trans_b, epi, p, cs=None, rows=None) -> GemmPlan:
    """Plan the __local-tiled kernel for the GPU kind."""
    wg = tuple(p["wg"])
    tile_n, tile_m = wg[0] * p["rn"], wg[1] * p["rm"]
    name = f"gemm_gpu_{m}x{k}x{n}_{'t' if trans_a else 'n'}{'t' if trans_b else 'n'}"
    name += "_g" if rows is not None else ""
    src = render_gpu(
        name=name,
        m=m,
        n=n,
        k=k,
        trans_a=trans_a,
        trans_b=trans_b,
        wg=wg,
        rm=p["rm"],
        rn=p["rn"],
        tk=p["tk"],
        epi=epi,
        cs=cs,
        rows=rows,
    )
    gsize = (-(-n // tile_n) * wg[0], -(-m // tile_m) * wg[1])
    args = ("A", *(("IA",) if rows is not None else ()), "B", "C", *_extra_args(epi, cs))
    return GemmPlan((GemmLaunch(name, src, gsize, wg, args),), {}, 2 * m * n * k)
