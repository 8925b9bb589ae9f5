"""GEMM renderer: turns a matmul (plus a fused elementwise epilogue) into OpenCL C launches.

Pure text generation: nothing here touches OpenCL. Sizes are baked into the source as
``#define``s so each shape gets its own specialised (and separately cached) program.

CPU kind (pocl): register tiling after DESIGN.md, one launch per GEMM. Each work-item owns a
TM x TN block of C in ``float16`` accumulators (8 x 32; 6 x 64 when B is big); per k step it
does TN/16 aligned vector loads of B, TM scalar loads of A and TM*TN/16 vector multiply-adds.
A work-group (WG work-items walking down M) first copies its panel of op(B) (KB rows of TN
columns, zero past column N) into ``__local`` memory as one contiguous block, then all its
work-items stream that block. The copy transposes a transposed B, makes every B load aligned
and sidesteps the 4 KiB cache aliasing of power-of-two pitches (DESIGN.md: 136 vs 320
GFLOP/s), which used to take a separate packing launch; a B with a short pitch is read in
place. A is read in place: row-major, transposed, or through a row index (``gather_a``).
Parameters per device kind are a table (``DEFAULT_PARAMS``), overridable per call and per
process (``set_tuned_params``, fed by ``clflow tune``).

GPU kind: a classic ``__local`` tiled kernel (64 x 64 work-group tiles, 4 x 4 per work-item), in
gemm_gpu.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EXTRA_KINDS = ("col", "row", "full", "scalar")

DEFAULT_PARAMS: dict[str, dict] = {
    "cpu": {
        "tm": 8,  # rows of C per work-item (scalar A loads, 1 to 16)
        "tn": 32,  # columns of C per work-item: 16, 32, 48 or 64 (float16 vectors)
        "wg": 16,  # work-items per work-group, walking down M over one B panel
        # When B has more than big_b bytes its panel copies miss the caches (strided rows, a
        # TLB miss each): taller work-groups copy each panel fewer times, and a wider tile
        # reads A less often (6 x 64 measured 1.1x over 8 x 32 at n = 1024 and 2048).
        "big_b": 2 << 20,
        "tm_big": 6,
        "tn_big": 64,
        "wg_big": 512,
        "kb": 8192,  # most k rows of the B panel held in __local at once (k-blocking) ...
        "local_max": 1 << 20,  # ... and at most this many bytes of it (pocl offers 2 MiB)
        "unroll": 4,  # `#pragma unroll` factor of the k loop
        "walk": "n",  # consecutive work-groups step along N (share A rows) or M (share B)
        "direct_pitch": 512,  # read B in place (no __local copy) up to this row pitch in bytes
        "min_groups": 4,  # shrink the work-group until at least this many groups exist
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


def _gather_defs(rows: int | None) -> str:
    """ROW_A(x): a gathered A's row index x clamped into the stored rows (numpy's clip)."""
    if rows is None:
        return ""
    # Not min()/max(): pocl 3.0 makes the int builtins calls that spill every accumulator.
    return (
        f"#define ROWS {rows}\n"
        "inline int ROW_A(const int x) { return x < 0 ? 0 : (x < ROWS ? x : ROWS - 1); }\n"
    )


def _ia_param(rows: int | None) -> str:
    return "" if rows is None else ", __global const int* restrict IA"


def _a_access(trans_a: bool, gather: bool, tm: int) -> tuple[str, str, list[str]]:
    """(setup, per-k-step, tm loads) C text reading op(A)[i0 + r][k] for the CPU kernel."""
    rows = [f"(i0 + {r} < M ? i0 + {r} : M - 1)" for r in range(tm)]  # padding: row M-1
    if trans_a:  # A[K][M] (or A[ROWS][M] with row IA[k]): tm neighbours in row k
        # A gathered row's offset comes from Aoff, filled with the B copy: clamping IA[k] in
        # the k loop made LLVM shuffle indices on the FMA port (-25 %).
        offset = "Aoff[kk]" if gather else "(size_t)k * M"
        setup = "".join(f"    const int ir{r} = {rows[r]};\n" for r in range(tm))
        step = f"            __global const float* ak = A + {offset};\n"
        return setup, step, [f"ak[ir{r}]" for r in range(tm)]
    if gather:
        rows = [f"ROW_A(IA[{row}])" for row in rows]
    setup = "".join(
        f"    __global const float* a{r} = A + (size_t)({rows[r]}) * K;\n" for r in range(tm)
    )
    return setup, "", [f"a{r}[k]" for r in range(tm)]


def _copy_b(n: int, tn: int, trans_b: bool) -> str:
    """C text: the work-group copies op(B)[k0:k0+kn, j0:j0+TN] into Bl[kn][TN], zero past N."""
    if trans_b:  # B[N][K]: a work-item moves 16 k x TN tiles, reading 16 floats of each row
        return """        for (int kc = lid * 16; kc < kn; kc += WG * 16) {
            const int ke = kc + 16 < kn ? kc + 16 : kn;
            for (int c = 0; c < TN; ++c) {
                __local float* dst = Bl + c;
                if (j0 + c < N) {
                    __global const float* brow = B + (size_t)(j0 + c) * K + k0;
                    for (int kk = kc; kk < ke; ++kk) dst[kk * TN] = brow[kk];
                } else {
                    for (int kk = kc; kk < ke; ++kk) dst[kk * TN] = 0.0f;
                }
            }
        }
"""
    head = """        for (int kk = lid; kk < kn; kk += WG) {
            __global const float* brow = B + (size_t)(k0 + kk) * N + j0;
            __local float* dst = Bl + kk * TN;
"""
    if n % 16 == 0:  # every row 64-byte aligned: vector copies
        body = ""
        for h in range(0, tn, 16):
            copy = f"*(__local float16*)(dst + {h}) = *(__global const float16*)(brow + {h});"
            if n % tn == 0 or h == 0:
                body += f"            {copy}\n"
            else:  # the last panel may end after the first half
                body += f"            if (j0 + {h} < N) {copy}\n"
                body += f"            else *(__local float16*)(dst + {h}) = (float16)(0.0f);\n"
    else:
        body = """            if (j0 + TN <= N) {
                for (int c = 0; c < TN; ++c) dst[c] = brow[c];
            } else {
                for (int c = 0; c < TN; ++c) dst[c] = j0 + c < N ? brow[c] : 0.0f;
            }
"""
    return head + body + "        }\n"


def _store16(epi: GemmEpilogue, n: int) -> str:
    """store16(C, extras, i, jb, v): C[i][jb + c] = epilogue(v[c]) for the columns below N.

    A plain store of a whole 16-column block is one vector store; with an epilogue, a loop
    over a private copy's lanes measured faster (M2 fit +4 %) than naming them (v.s0 ...).
    """
    head = (
        f"inline void store16(__global float* restrict C{_extra_params(epi)}, const int i,\n"
        "                    const int jb, const float16 v) {\n"
        "    __global float* crow = C + (size_t)i * N + jb;\n"
    )
    if n % 16 == 0:  # whole 16-column blocks are in or out (the last panel may be half out)
        head += "    if (jb >= N) return;\n"
        if not _epi_def(epi):
            return head + "    *(__global float16*)crow = v;\n}\n"
    guard = "if (jb + c < N) " if n % 16 else ""
    body = "    const float16 tv = v;\n    const float* t = (const float*)&tv;\n"
    body += f"    for (int c = 0; c < 16; ++c) {guard}crow[c] = "
    body += f"{_epi_call(epi, 't[c]', 'i', 'jb + c')};\n"
    return head + body + "}\n"


def _cpu_kernel(
    name, m, n, k, trans_a, trans_b, rows, tm, tn, wg, kb, unroll, md, direct, epi, cs=None
) -> str:
    """Register-tiled kernel: each work-item owns C[i0:i0+tm, j0:j0+tn] in float16 registers.

    The B panel goes through ``__local`` memory in blocks of kb k rows, or is read in place
    when ``direct`` (row-major, n a multiple of tn, a short pitch). A is read in place:
    row-major, transposed, or gathered (``rows``: its stored row count, else None).
    """
    halves = tn // 16
    kb = k if direct and not (trans_a and rows is not None) else max(1, min(kb, k))
    if direct:
        b_vec = "*(__global const float16*)(B + (size_t)k * N + j0 + {})"
    else:
        b_vec = "*(const __local float16*)(Bl + kk * TN + {})"
    a_setup, a_step, a_load = _a_access(trans_a, rows is not None, tm)
    step = "            const int k = k0 + kk;\n" + a_step
    step += "".join(
        f"            const float16 b{h} = {b_vec.format(16 * h)};\n" for h in range(halves)
    )
    for r in range(tm):
        step += f"            {{ const float a = {a_load[r]};"
        step += "".join(f" c{r}_{h} += a * b{h};" for h in range(halves)) + " }\n"
    accs = [f"c{r}_{h}" for r in range(tm) for h in range(halves)]
    body = ""
    if k > 0:
        if not direct:
            body += "    __local float Bl[KB * TN];\n"
        if trans_a and rows is not None:
            body += "    __local int Aoff[KB];\n"
        if cs is not None:
            body += f"    float16 {', '.join(f's{h} = (float16)(0.0f)' for h in range(halves))};\n"
        if k > kb:
            body += "    for (int k0 = 0; k0 < K; k0 += KB) {\n"
            body += "        const int kn = K - k0 < KB ? K - k0 : KB;\n"
            body += "        barrier(CLK_LOCAL_MEM_FENCE);  // the previous block is consumed\n"
        else:
            body += "    {\n        const int k0 = 0, kn = K;\n"
        copies = "" if direct else _copy_b(n, tn, trans_b)
        if trans_a and rows is not None:  # the stored rows' offsets (ROWS * M < 2**31)
            copies += "        for (int kk = lid; kk < kn; kk += WG) "
            copies += "Aoff[kk] = ROW_A(IA[k0 + kk]) * M;\n"
        if copies:
            body += copies + "        barrier(CLK_LOCAL_MEM_FENCE);\n"
        # Padding work-items (i0 >= M) compute on row M-1 between the barriers of a k-blocked
        # loop: skipping the work there gave wrong rows on pocl 3.0 (K = 2 * KB, n >= 512).
        skip = "if (i0 < M)" if k <= kb else "if (1)"
        body += f"        {skip} {{\n#pragma unroll {unroll}\n"
        body += f"        for (int kk = 0; kk < kn; ++kk) {{\n{step}        }}\n        }}\n"
        if cs is not None:  # the first row block also sums op(B) over k (a bias gradient)
            body += "        if (get_global_id(MD) == 0) {\n"
            body += "            for (int kk = 0; kk < kn; ++kk) {\n"
            body += "                const int k = k0 + kk;\n"
            body += "".join(
                f"                s{h} += {b_vec.format(16 * h)};\n" for h in range(halves)
            )
            body += "            }\n        }\n"
        body += "    }\n"
    extras = "".join(f", E{i}" for i in range(len(epi.extras)))
    store = "".join(
        f"    {f'if (i0 + {r} < M) ' if m % tm else ''}"
        f"store16(C{extras}, i0 + {r}, j0 + {16 * h}, c{r}_{h});\n"
        for r in range(tm)
        for h in range(halves)
    )
    if m % tm == 0:  # whole row blocks: only the padding work-items (i0 >= M) skip the store
        store = f"    if (i0 < M) {{\n{store}    }}\n"
    colsum = ""
    if cs is not None:
        colsum = "    if (get_global_id(MD) == 0) {\n"
        for h in range(halves):
            total = f"s{h}" if k > 0 else "(float16)(0.0f)"
            call = _epi_call(cs, "t[c]", "0", "j", "gemm_colsum", "F")
            colsum += (
                f"        {{ const float16 tv = {total}; const float* t = (const float*)&tv;\n"
                f"          for (int c = 0; c < 16; ++c) {{ const int j = j0 + {16 * h} + c;"
                f" if (j < N) S[j] = {call}; }} }}\n"
            )
        colsum += "    }\n"
    lsize = "WG, 1, 1" if md == 0 else "1, WG, 1"
    return f"""{_defines(M=m, N=n, K=k, TM=tm, TN=tn, KB=kb, WG=wg, MD=md)}
{_gather_defs(rows)}{_epi_def(epi)}{_cs_def(cs)}
{_store16(epi, n)}

__kernel __attribute__((reqd_work_group_size({lsize})))
void {name}(__global const float* restrict A{_ia_param(rows)}, __global const float* restrict B,
            __global float* restrict C{_extra_params(epi, cs)}) {{
    const int lid = get_local_id(MD);
    const int j0 = get_group_id(1 - MD) * TN;
    const int i0 = get_global_id(MD) * TM;
{a_setup}    float16 {" = (float16)(0.0f), ".join(accs)} = (float16)(0.0f);
{body}{store}{colsum}}}
"""


def _check_params(device_kind: str, params: dict | None, base: dict) -> dict:
    """``base`` updated with ``params``, each checked; raises ValueError naming the bad one."""
    merged = dict(base)
    unknown = set(params or {}) - set(merged)
    if unknown:
        raise ValueError(
            f"plan_gemm: unknown {device_kind} params {sorted(unknown)}, expected some of "
            f"{sorted(merged)}"
        )
    for key, value in (params or {}).items():
        if key == "wg" and device_kind == "gpu":
            ok = isinstance(value, (tuple, list)) and len(value) == 2
            ok = ok and all(_positive_int(v) for v in value)
            value = tuple(value) if ok else value
            expect = "a pair of ints >= 1"
        else:
            ok, expect = _positive_int(value), "an int >= 1"
        if key in ("tn", "tn_big") and value not in (16, 32, 48, 64):
            ok, expect = False, "16, 32, 48 or 64"
        if key in ("tm", "tm_big") and not (_positive_int(value) and value <= 16):
            ok, expect = False, "an int from 1 to 16"
        if key == "walk":
            ok, expect = value in ("m", "n"), "'m' or 'n'"
        if not ok:
            raise ValueError(
                f"plan_gemm: {device_kind} param {key} must be {expect}, got {value!r}"
            )
        merged[key] = value
    return merged


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


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
    return _check_params(device_kind, params, tuned_params(device_kind))


# Parameters measured for the current device (``clflow tune``), per device kind.
_TUNED: dict[str, dict] = {}


def set_tuned_params(device_kind: str, params: dict | None) -> dict:
    """Make ``params`` the defaults of ``device_kind`` for later plans (None: the built-ins).

    Args:
        device_kind: 'cpu' or 'gpu'.
        params: some of ``DEFAULT_PARAMS[device_kind]``'s keys, checked as plan_gemm does.

    Returns:
        The parameters plans of this kind now use.

    Example:
        >>> set_tuned_params("cpu", {"wg": 32})["wg"]
        32
        >>> set_tuned_params("cpu", None)["wg"]
        16
    """
    if device_kind not in DEFAULT_PARAMS:
        raise ValueError(
            f"set_tuned_params: device_kind must be one of {sorted(DEFAULT_PARAMS)}, "
            f"got {device_kind!r}"
        )
    if params is None:
        _TUNED.pop(device_kind, None)
    else:
        merged = _check_params(device_kind, params, DEFAULT_PARAMS[device_kind])
        _TUNED[device_kind] = {key: merged[key] for key in params}
    return tuned_params(device_kind)


def tuned_params(device_kind: str) -> dict:
    """The parameters plans of ``device_kind`` use when given none: built-ins, then tuned."""
    return {**DEFAULT_PARAMS[device_kind], **_TUNED.get(device_kind, {})}


def _extra_args(epi: GemmEpilogue, cs: GemmEpilogue | None) -> tuple[str, ...]:
    """Argument names after C: the epilogue's extras, then the column sum and its extras."""
    out = tuple(f"E{i}" for i in range(len(epi.extras)))
    return out if cs is None else (*out, "S", *(f"F{i}" for i in range(len(cs.extras))))


def _cpu_plan(m, n, k, trans_a, trans_b, epi, p, cs=None, rows=None) -> GemmPlan:
    """Lay out the single register-tiled launch of the CPU kind."""
    big = "_big" if k * n * 4 > p["big_b"] else ""
    tm, tn = p["tm" + big], p["tn" + big]
    tn = 16 if n <= 16 else tn  # a narrow C wastes less of a 16-column panel
    panels, mblocks = -(-n // tn), -(-m // tm)
    wg = max(1, min(p["wg" + big], mblocks))
    while wg > 1 and panels * -(-mblocks // wg) < p["min_groups"]:
        wg //= 2  # small problems: more work-groups so that every core gets work
    wg = -(-mblocks // -(-mblocks // wg))  # as many groups, balanced: fewer idle work-items
    tag = f"{m}x{k}x{n}_{'t' if trans_a else 'n'}{'t' if trans_b else 'n'}"
    name = f"gemm_{tag}" + ("_g" if rows is not None else "")
    md = 0 if p["walk"] == "m" else 1  # the grid dimension of the row blocks
    # Read B in place when its rows are aligned panels close together (a short pitch: no
    # cache aliasing) or when each panel serves one row block only (a copy would not pay).
    direct = not trans_b and n % tn == 0 and (n * 4 <= p["direct_pitch"] or mblocks == 1)
    src = _cpu_kernel(
        name,
        m,
        n,
        k,
        trans_a,
        trans_b,
        rows,
        tm,
        tn,
        wg,
        min(p["kb"], max(1, p["local_max"] // (tn * 4))),
        p["unroll"],
        md,
        direct,
        epi,
        cs,
    )
    args = ("A", *(("IA",) if rows is not None else ()), "B", "C", *_extra_args(epi, cs))
    gsize, lsize = (panels, -(-mblocks // wg) * wg), (1, wg)
    if md == 0:  # work-groups in a row share a B panel (walk down M first)
        gsize, lsize = gsize[::-1], lsize[::-1]
    launch = GemmLaunch(name, src, gsize, lsize, args)
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
    gather_a: int | None = None,
) -> GemmPlan:
    """Plan C[M,N] = epilogue(op(A) @ op(B)) for float32 row-major buffers.

    Arguments of each launch are named: 'A', 'IA' (with gather_a), 'B', 'C', 'E0'...,
    'S', 'F0'... (with colsum), as in ``GemmLaunch.args``.

    Args:
        m, n, k: problem sizes (k may be 0: C is then epilogue(0)).
        trans_a: A is stored as [K, M] instead of [M, K] (read in place).
        trans_b: B is stored as [N, K] instead of [K, N] (read in place).
        epilogue: fused elementwise work on each C element; None means a plain store.
        device_kind: 'cpu' (register-tiled, for pocl) or 'gpu' (``__local`` tiled).
        params: overrides of the kind's parameters (``tuned_params``, else ``DEFAULT_PARAMS``).
        colsum: also write ``S[j] = colsum.expr(sum_k op(B)[k][j], f0, ...)`` (a bias gradient
            beside dW); its extras ('col' or 'scalar') are bound as F0, F1, ...
        gather_a: read A through the int32 row index IA, A being stored with this many rows:
            op(A)[i, :] = A[IA[i], :] (IA has M entries, A is [gather_a, K]), or with trans_a
            op(A)[:, kk] = A[IA[kk], :] (IA has K entries, A is [gather_a, M]). Indices are
            clamped into [0, gather_a - 1], as the ``gather`` op does.

    Example:
        >>> plan = plan_gemm(1024, 1024, 1024)
        >>> [launch.name for launch in plan.launches]
        ['gemm_1024x1024x1024_nn']
        >>> plan_gemm(32, 10, 784, gather_a=60000).launches[0].args
        ('A', 'IA', 'B', 'C')
    """
    epilogue = GemmEpilogue() if epilogue is None else epilogue
    p = _check_args(m, n, k, epilogue, device_kind, params)
    if colsum is not None:
        _check_args(m, n, k, colsum, device_kind, params)
        if set(colsum.extras) - {"col", "scalar"}:
            raise ValueError(
                f"plan_gemm: colsum extras must be 'col' or 'scalar', got {colsum.extras}"
            )
    if gather_a is not None:
        if not _positive_int(gather_a):
            raise ValueError(
                f"plan_gemm: gather_a must be the stored row count of A (an int >= 1) or "
                f"None, got {gather_a!r}"
            )
        if gather_a * (m if trans_a else k) >= 2**31:
            raise ValueError(f"plan_gemm: a gathered A of {gather_a} rows has over 2**31 elements")
    if device_kind == "cpu":
        planner = _cpu_plan
    else:
        from .gemm_gpu import gpu_plan as planner  # imports this module's helpers
    return planner(m, n, k, bool(trans_a), bool(trans_b), epilogue, p, colsum, gather_a)
