"""GEMM renderer: turns a matmul (plus a fused elementwise epilogue) into OpenCL C launches.

Pure text generation: nothing here touches OpenCL. Sizes are baked into the source as
``#define``s so each shape gets its own specialised (and separately cached) program.

CPU kind (pocl): register tiling after DESIGN.md. Each work-item owns an 8 x 32 block of C in
16 ``float16`` accumulators; per k step it does two aligned 16-wide B loads, 8 scalar A loads
and 16 vector multiply-adds. B is packed into contiguous 32-column panels by a small kernel
when that pays (large M, unaligned or power-of-two pitch, transposed B), and a transposed A
into 8-row panels for long k walks; small problems run a single direct kernel since each launch
costs microseconds.

GPU kind: a classic ``__local`` tiled kernel (64 x 64 work-group tiles, 4 x 4 per work-item).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EXTRA_KINDS = ("col", "row", "full", "scalar")

DEFAULT_PARAMS: dict[str, dict] = {
    "cpu": {
        "tn": 32,  # columns per work-item (two float16 vectors); 16 is also accepted
        "wg": 16,  # work-items per work-group, walking down M over one B panel
        "unroll": 4,  # `#pragma unroll` factor of the k loop
        "min_groups": 4,  # shrink the work-group until at least this many groups exist
        "pack_min_m": 64,  # pack only if M is at least this (B reuse pays the pack pass)
        "pack_min_k": 128,  # ... and K at least this (shorter k walks stay in cache anyway)
    },
    "gpu": {
        "wg": (16, 16),  # work-group shape (columns, rows)
        "rm": 4,  # rows of C per work-item
        "rn": 4,  # columns of C per work-item
        "tk": 16,  # k depth of each __local tile
    },
}


@dataclass(frozen=True)
class GemmEpilogue:
    """Elementwise work fused after the matmul, applied to each C element before the store.

    Args:
        extras: kinds of extra float inputs, bound as E0, E1, ...: 'col' (float[N], indexed
            by column), 'row' (float[M], by row), 'full' (float[M*N], same layout as C) or
            'scalar' (float[1]).
        expr: C expression of ``acc`` (the float dot product) and ``e0``, ``e1``, ... (the
            extra values loaded for this element).

    Example:
        >>> bias_relu = GemmEpilogue(("col",), "fmax(acc + e0, 0.0f)")
        >>> plan = plan_gemm(32, 32, 784, epilogue=bias_relu)
        >>> plan.launches[-1].args
        ('A', 'B', 'C', 'E0')
    """

    extras: tuple[str, ...] = ()
    expr: str = "acc"


@dataclass(frozen=True)
class GemmLaunch:
    """One kernel launch: its source, sizes and the buffer names bound to its arguments."""

    name: str
    source: str
    global_size: tuple
    local_size: tuple | None
    args: tuple[str, ...]


@dataclass(frozen=True)
class GemmPlan:
    """The launches of one GEMM, in order, and the temporary buffers they share."""

    launches: tuple[GemmLaunch, ...]
    temps: dict[str, int] = field(default_factory=dict)
    flops: int = 0


# --- source rendering -----------------------------------------------------------------------


def _epi_def(epi: GemmEpilogue, fname: str = "gemm_epilogue") -> str:
    """The epilogue as an inline C function (empty when it is a plain store)."""
    if not epi.extras and epi.expr.strip() == "acc" and fname == "gemm_epilogue":
        return ""
    params = "".join(f", float e{i}" for i in range(len(epi.extras)))
    return f"inline float {fname}(float acc{params}) {{ return ({epi.expr}); }}\n"


def _epi_call(
    epi: GemmEpilogue, acc: str, i: str, j: str, fname: str = "gemm_epilogue", prefix: str = "E"
) -> str:
    """C text applying the epilogue to `acc` for element (i, j)."""
    if not _epi_def(epi, fname):
        return acc
    index = {"col": j, "row": i, "full": f"({i}) * N + ({j})", "scalar": "0"}
    loads = "".join(f", {prefix}{n}[{index[kind]}]" for n, kind in enumerate(epi.extras))
    return f"{fname}({acc}{loads})"


def _extra_params(epi: GemmEpilogue, cs: GemmEpilogue | None = None) -> str:
    out = "".join(f", __global const float* restrict E{i}" for i in range(len(epi.extras)))
    if cs is not None:  # the column sum of op(B): its output and its own extras
        out += ", __global float* restrict S"
        out += "".join(f", __global const float* restrict F{i}" for i in range(len(cs.extras)))
    return out


def _cs_def(cs: GemmEpilogue | None) -> str:
    return _epi_def(cs, "gemm_colsum") if cs is not None else ""


def _defines(**values) -> str:
    return "".join(f"#define {key} {value}\n" for key, value in values.items())


def _cpu_kernel(name, m, n, k, a_mode, b_mode, tn, wg, unroll, epi, cs=None) -> str:
    """Register-tiled kernel: each work-item owns C[i0:i0+8, j0:j0+tn] in float16 accumulators.

    a_mode: 'rows' (A[M][K]), 'trans' (A[K][M] in place) or 'packed' (Ap[M/8][K][8]).
    b_mode: 'packed' (Bp[N/tn][K][tn]), 'vec' (B[K][N], aligned) or 'scalar' / 'scalar_t'
    (B[K][N] / B[N][K] read element by element with clamped columns).
    """
    halves = tn // 16
    ragged_m = m % 8 != 0
    rows = [f"min(i0 + {r}, M - 1)" if ragged_m else f"i0 + {r}" for r in range(8)]
    a_setup, b_setup, loop, b_loop = "", "", "", ""
    if a_mode == "packed":
        a_param = "Ap"
        a_setup += "    __global const float* ap = Ap + (size_t)i0 * K;\n"
        a_load = [f"ap[k * 8 + {r}]" for r in range(8)]
    elif a_mode == "trans":
        a_param = "A"
        a_setup += "".join(f"    const int ir{r} = {rows[r]};\n" for r in range(8))
        loop += "        __global const float* ak = A + k * M;\n"
        a_load = [f"ak[ir{r}]" for r in range(8)]
    else:
        a_param = "A"
        a_setup += "".join(
            f"    __global const float* a{r} = A + (size_t)({rows[r]}) * K;\n" for r in range(8)
        )
        a_load = [f"a{r}[k]" for r in range(8)]
    b_param = "Bp" if b_mode == "packed" else "B"
    if b_mode == "packed":
        b_setup += "    __global const float* bp = Bp + (size_t)get_global_id(0) * K * TN;\n"
        vec = [f"*(__global const float16*)(bp + k * TN + {16 * h})" for h in range(halves)]
    elif b_mode == "vec":
        vec = [f"*(__global const float16*)(B + k * N + j0 + {16 * h})" for h in range(halves)]
    else:
        single = n <= tn  # one panel: j0 == 0, so the clamped columns are constants
        cols = [str(min(c, n - 1)) if single else f"jc{c}" for c in range(tn)]
        if not single:
            b_setup += "".join(f"    const int jc{c} = min(j0 + {c}, N - 1);\n" for c in range(tn))
        if b_mode == "scalar_t":
            b_setup += "".join(
                f"    __global const float* bc{c} = B + (size_t){cols[c]} * K;\n" for c in range(tn)
            )
            elems = [f"bc{c}[k]" for c in range(tn)]
        else:
            b_loop += "        __global const float* brow = B + k * N;\n"
            elems = [f"brow[{cols[c]}]" for c in range(tn)]
        vec = [f"(float16)({', '.join(elems[16 * h : 16 * h + 16])})" for h in range(halves)]
    b_loop += "".join(f"        const float16 b{h} = {vec[h]};\n" for h in range(halves))
    loop += b_loop
    for r in range(8):
        loop += f"        {{ const float a = {a_load[r]};"
        loop += "".join(f" c{r}_{h} += a * b{h};" for h in range(halves)) + " }\n"
    accs = [f"c{r}_{h}" for r in range(8) for h in range(halves)]
    extras = "".join(f", E{i}" for i in range(len(epi.extras)))
    store = ""
    for r in range(8):
        guard = f"if (i0 + {r} < M) " if ragged_m else ""
        for h in range(halves):
            store += f"    {guard}store16(C{extras}, i0 + {r}, j0 + {16 * h}, c{r}_{h});\n"
    colsum = ""
    if cs is not None:  # row block 0 also sums op(B) over k for its columns (bias gradient)
        sums = [f"s{h}" for h in range(halves)]
        zero = " = (float16)(0.0f)"
        colsum = (
            f"    if (get_global_id(1) == 0) {{\n        float16 {(zero + ', ').join(sums)}"
            f"{zero};\n        for (int k = 0; k < K; ++k) {{\n"
            + "".join("    " + line for line in b_loop.splitlines(True))
            + "".join(f"            s{h} += b{h};\n" for h in range(halves))
            + "        }\n"
        )
        for h in range(halves):
            call = _epi_call(cs, "t[c]", "0", "j", "gemm_colsum", "F")
            colsum += (
                f"        {{ const float16 tv = s{h}; const float* t = (const float*)&tv;\n"
                f"          for (int c = 0; c < 16; ++c) {{ const int j = j0 + {16 * h} + c;"
                f" if (j < N) S[j] = {call}; }} }}\n"
            )
        colsum += "    }\n"
    return f"""{_defines(M=m, N=n, K=k, TN=tn)}
{_epi_def(epi)}{_cs_def(cs)}
inline void store16(__global float* restrict C{_extra_params(epi)}, const int i, const int jb,
                    const float16 v) {{
    const float16 tv = v;
    const float* t = (const float*)&tv;
    __global float* crow = C + (size_t)i * N;
    for (int c = 0; c < 16; ++c) {{
        const int j = jb + c;
        if (j < N) crow[j] = {_epi_call(epi, "t[c]", "i", "j")};
    }}
}}

__kernel __attribute__((reqd_work_group_size(1, {wg}, 1)))
void {name}(__global const float* restrict {a_param}, __global const float* restrict {b_param},
            __global float* restrict C{_extra_params(epi, cs)}) {{
    const int j0 = get_global_id(0) * TN;
    const int i0 = get_global_id(1) * 8;
    if (i0 >= M) return;
{b_setup}{a_setup}    float16 {" = (float16)(0.0f), ".join(accs)} = (float16)(0.0f);
#pragma unroll {unroll}
    for (int k = 0; k < K; ++k) {{
{loop}    }}
{colsum}{store}}}
"""


def _render_pack_b(name, n, k, trans_b, tn) -> tuple[str, tuple]:
    """Bp[p][k][c] = op(B)[k][p*tn + c], zero past column N; 8 x tn tiles when transposing."""
    panels = -(-n // tn)
    if trans_b:  # B[N][K]: read 8 consecutive k of tn rows, write 8 whole panel rows
        body = """    const int k0 = get_global_id(0) * 8, p = get_global_id(1);
    __global float* out = Bp + ((size_t)p * K + k0) * TN;
    for (int c = 0; c < TN; ++c) {
        const int j = p * TN + c;
#pragma unroll
        for (int t = 0; t < 8; ++t)
            if (k0 + t < K) out[t * TN + c] = j < N ? B[(size_t)j * K + k0 + t] : 0.0f;
    }"""
        gsize = (-(-k // 8), panels)
    else:  # B[K][N]: one panel row per work-item, consecutive work-items read along the row
        body = """    const int p = get_global_id(0), k = get_global_id(1);
    __global float* out = Bp + ((size_t)p * K + k) * TN;
    __global const float* in = B + (size_t)k * N + p * TN;
"""
        if n % tn == 0:  # rows 64-byte aligned: plain vector copies
            body += "".join(
                f"    *(__global float16*)(out + {h}) = *(__global const float16*)(in + {h});\n"
                for h in range(0, tn, 16)
            )
        else:
            body += "#pragma unroll\n    for (int c = 0; c < TN; ++c)\n"
            body += "        out[c] = p * TN + c < N ? in[c] : 0.0f;"
        gsize = (panels, k)
    source = f"""{_defines(N=n, K=k, TN=tn)}
__kernel void {name}(__global const float* restrict B, __global float* restrict Bp) {{
{body}
}}
"""
    return source, gsize


def _render_pack_a(name, m, k) -> tuple[str, tuple]:
    """Ap[b][k][r] = A[k][8*b + r] for A stored [K][M] (trans_a), zero past row M."""
    source = f"""{_defines(M=m, K=k)}
__kernel void {name}(__global const float* restrict A, __global float* restrict Ap) {{
    const int b = get_global_id(0), k0 = get_global_id(1) * 8;
    __global float* out = Ap + ((size_t)b * K + k0) * 8;
#pragma unroll
    for (int t = 0; t < 8; ++t) {{
        if (k0 + t < K) {{
#pragma unroll
            for (int r = 0; r < 8; ++r)
                out[t * 8 + r] = b * 8 + r < M ? A[(size_t)(k0 + t) * M + b * 8 + r] : 0.0f;
        }}
    }}
}}
"""
    return source, (-(-m // 8), -(-k // 8))


def render_gpu(*, name, m, n, k, trans_a, trans_b, wg, rm, rn, tk, epi, cs=None) -> str:
    """__local-memory tiled kernel: each work-item computes an rm x rn strided micro-tile."""
    if trans_a:  # A[k][i]: consecutive work-items read consecutive i
        a_idx, a_src = "ii = l % TILE_M, kk = l / TILE_M", "A[(size_t)k * M + i]"
    else:
        a_idx, a_src = "kk = l % TK, ii = l / TK", "A[(size_t)i * K + k]"
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
{_epi_def(epi)}{_cs_def(cs)}
__kernel __attribute__((reqd_work_group_size(WGX, WGY, 1)))
void {name}(__global const float* restrict A, __global const float* restrict B,
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


def _check_args(m, n, k, epilogue, device_kind, params) -> dict:
    """Validate plan_gemm's inputs and return the merged tile parameters."""
    for name, value, low in (("m", m, 1), ("n", n, 1), ("k", k, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"plan_gemm: {name} must be an int >= {low}, got {value!r}")
    if max(m * k, k * (n + 32), m * n) >= 2**31:
        raise ValueError(f"plan_gemm: {m}x{k} @ {k}x{n} has over 2**31 elements per operand")
    if device_kind not in DEFAULT_PARAMS:
        raise ValueError(
            f"plan_gemm: device_kind must be one of {sorted(DEFAULT_PARAMS)}, got {device_kind!r}"
        )
    if not isinstance(epilogue, GemmEpilogue):
        raise TypeError(f"plan_gemm: epilogue must be a GemmEpilogue, got {type(epilogue)}")
    for i, kind in enumerate(epilogue.extras):
        if kind not in EXTRA_KINDS:
            raise ValueError(
                f"plan_gemm: epilogue extra E{i} has kind {kind!r}, expected one of {EXTRA_KINDS}"
            )
    if not isinstance(epilogue.expr, str) or not epilogue.expr.strip():
        raise ValueError(
            f"plan_gemm: epilogue expr must be a non-empty C expression, got {epilogue.expr!r}"
        )
    for ref in re.findall(r"\be(\d+)\b", epilogue.expr):
        if int(ref) >= len(epilogue.extras):
            raise ValueError(
                f"plan_gemm: epilogue expr {epilogue.expr!r} uses e{ref} but only "
                f"{len(epilogue.extras)} extras are declared ({epilogue.extras})"
            )
    merged = dict(DEFAULT_PARAMS[device_kind])
    unknown = set(params or {}) - set(merged)
    if unknown:
        raise ValueError(
            f"plan_gemm: unknown {device_kind} params {sorted(unknown)}, expected some of "
            f"{sorted(merged)}"
        )
    merged.update(params or {})
    if device_kind == "cpu" and merged["tn"] not in (16, 32):
        raise ValueError(f"plan_gemm: cpu param tn must be 16 or 32, got {merged['tn']!r}")
    return merged


def _cs_args(cs: GemmEpilogue | None) -> tuple[str, ...]:
    return () if cs is None else ("S", *(f"F{i}" for i in range(len(cs.extras))))


def _cpu_plan(m, n, k, trans_a, trans_b, epi, p, cs=None) -> GemmPlan:
    """Pick direct or packed operands for the CPU kind and lay out the launches."""
    tag = f"{m}x{k}x{n}_{'t' if trans_a else 'n'}{'t' if trans_b else 'n'}"
    extra_args = tuple(f"E{i}" for i in range(len(epi.extras))) + _cs_args(cs)
    big = k > 0 and m >= p["pack_min_m"] and k >= p["pack_min_k"]
    tn = p["tn"]
    if not trans_b and n % tn != 0 and n % 16 == 0:
        tn = 16  # keeps direct vector loads of B aligned
    vec_b = not trans_b and n % tn == 0
    # Pack B when it is reused by many row blocks and read badly in place: unaligned, transposed,
    # a 1 KiB-multiple pitch (cache aliasing, DESIGN.md: 136 vs 320 GFLOP/s) or a long k walk
    # through pages. Pack a transposed A when its k walk strides through pages the same way.
    aliased = (n * 4) % 1024 == 0
    pack_b = k > 0 and m >= p["pack_min_m"] and (not vec_b or aliased or big)
    pack_a = big and trans_a
    if pack_b:
        tn = p["tn"]
        b_mode = "packed"
    else:
        b_mode = "vec" if vec_b else ("scalar_t" if trans_b else "scalar")
    a_mode = "packed" if pack_a else ("trans" if trans_a else "rows")
    panels, mblocks = -(-n // tn), -(-m // 8)
    wg = max(1, min(p["wg"], mblocks))
    while wg > 1 and panels * -(-mblocks // wg) < p["min_groups"]:
        wg //= 2  # small problems: more work-groups so both cores get work
    launches, temps = [], {}
    if pack_a:
        src, gsize = _render_pack_a(f"pack_a_{k}x{m}", m, k)
        launches.append(GemmLaunch(f"pack_a_{k}x{m}", src, gsize, None, ("A", "Apacked")))
        temps["Apacked"] = mblocks * 8 * k * 4
    if pack_b:
        name = f"pack_b_{k}x{n}_{'t' if trans_b else 'n'}{tn}"
        src, gsize = _render_pack_b(name, n, k, trans_b, tn)
        launches.append(GemmLaunch(name, src, gsize, None, ("B", "Bpacked")))
        temps["Bpacked"] = panels * tn * k * 4
    name = f"gemm_{tag}" + ("_pa" if pack_a else "") + ("_pb" if pack_b else "")
    src = _cpu_kernel(name, m, n, k, a_mode, b_mode, tn, wg, p["unroll"], epi, cs)
    args = ("Apacked" if pack_a else "A", "Bpacked" if pack_b else "B", "C", *extra_args)
    gsize = (panels, -(-mblocks // wg) * wg)
    launches.append(GemmLaunch(name, src, gsize, (1, wg), args))
    return GemmPlan(tuple(launches), temps, 2 * m * n * k)


def _gpu_plan(m, n, k, trans_a, trans_b, epi, p, cs=None) -> GemmPlan:
    """Plan the __local-tiled kernel for the GPU kind."""
    wg = tuple(p["wg"])
    tile_n, tile_m = wg[0] * p["rn"], wg[1] * p["rm"]
    name = f"gemm_gpu_{m}x{k}x{n}_{'t' if trans_a else 'n'}{'t' if trans_b else 'n'}"
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
    )
    gsize = (-(-n // tile_n) * wg[0], -(-m // tile_m) * wg[1])
    extra_args = tuple(f"E{i}" for i in range(len(epi.extras))) + _cs_args(cs)
    launch = GemmLaunch(name, src, gsize, wg, ("A", "B", "C", *extra_args))
    return GemmPlan((launch,), {}, 2 * m * n * k)


def plan_gemm(
    m: int,
    n: int,
    k: int,
    *,
    trans_a: bool = False,
    trans_b: bool = False,
    epilogue: GemmEpilogue | None = None,
    device_kind: str = "cpu",
    params: dict | None = None,
    colsum: GemmEpilogue | None = None,
) -> GemmPlan:
    """Plan C[M,N] = epilogue(op(A) @ op(B)) for float32 row-major buffers.

    Args:
        m, n, k: problem sizes (k may be 0: C is then epilogue(0)).
        trans_a: A is stored as [K, M] instead of [M, K] (read in place).
        trans_b: B is stored as [N, K] instead of [K, N] (read in place).
        epilogue: fused elementwise work on each C element; None means a plain store.
        device_kind: 'cpu' (register-tiled, for pocl) or 'gpu' (``__local`` tiled).
        params: overrides of ``DEFAULT_PARAMS[device_kind]`` for tuning.
        colsum: also write ``S[j] = colsum.expr(sum_k op(B)[k][j], f0, ...)`` (a bias gradient
            beside dW); its extras ('col' or 'scalar') are bound as F0, F1, ...

    Example:
        >>> plan = plan_gemm(1024, 1024, 1024)
        >>> [launch.name for launch in plan.launches]
        ['pack_b_1024x1024_n32', 'gemm_1024x1024x1024_nn_pb']
    """
    epilogue = GemmEpilogue() if epilogue is None else epilogue
    p = _check_args(m, n, k, epilogue, device_kind, params)
    if colsum is not None:
        _check_args(m, n, k, colsum, device_kind, params)
        if set(colsum.extras) - {"col", "scalar"}:
            raise ValueError(
                f"plan_gemm: colsum extras must be 'col' or 'scalar', got {colsum.extras}"
            )
    planner = _cpu_plan if device_kind == "cpu" else _gpu_plan
    return planner(m, n, k, bool(trans_a), bool(trans_b), epilogue, p, colsum)
