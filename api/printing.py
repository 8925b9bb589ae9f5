"""TF.js's tensor print format (``tensor.print()``, ``print(true)``, ``toString()``), exactly.

The layout rules, as TF.js 4.22 (tfjs-core ``tensor_format.ts``) applies them:

- Elements of rank >= 1 tensors are written as JS ``parseFloat(v.toFixed(7)).toString()``:
  rounded to 7 decimals (exact decimal value, ties away from zero), then printed the way JS
  prints a number. A scalar is not rounded: it prints the full float64 value of the float32.
- For rank >= 2, each column of the last axis is right-padded to its widest entry over *all*
  rows, including rows hidden by truncation. Rank-1 tensors are never padded.
- An axis longer than 20 shows its first 3 and last 3 entries around ``...``.
- Sub-blocks of rank r >= 2 are followed by r - 1 blank lines.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np

__all__ = ["format_tensor", "js_number_to_string"]

_DTYPES = ("float32", "int32", "bool", "string")
# Axes longer than this are truncated to their first and last _EDGE entries.
_LIMIT = 20
_EDGE = 3
_DECIMALS = 7
# Number.prototype.toFixed falls back to plain toString at and above 1e21.
_TO_FIXED_MAX = 1e21


def js_number_to_string(x: float) -> str:
    """Return JS ``Number.prototype.toString()`` of the float64 ``x`` (ECMA-262 Number::toString).

    Args:
        x: any Python float (or int, converted to float64).

    Example:
        >>> js_number_to_string(1e-7), js_number_to_string(1e21), js_number_to_string(-0.0)
        ('1e-7', '1e+21', '0')
    """
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"  # JS prints -0 as "0" too
    if 1e-4 <= abs(x) < 1e16:
        # Both languages write this range in plain positional notation: only Python's ".0" on
        # integral values differs. A fast path, since this covers most printed elements.
        r = repr(x)
        return r[:-2] if r.endswith(".0") else r
    sign = "-" if x < 0 else ""
    # repr gives the shortest round-tripping digits, the same digit string JS chooses; only the
    # placement of the decimal point and the exponent notation differ between the languages.
    mantissa, _, exp = repr(abs(x)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    raw = int_part + frac_part
    digits = raw.lstrip("0")
    point = len(int_part) + int(exp or 0) - (len(raw) - len(digits))  # value = 0.DIGITS * 10^point
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    e = point - 1
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{head}e{'+' if e >= 0 else '-'}{abs(e)}"


def _rounded(x: float) -> float:
    """Return JS ``parseFloat(x.toFixed(7))``."""
    if not math.isfinite(x) or abs(x) >= _TO_FIXED_MAX:
        return x
    # toFixed rounds the exact binary value to 7 decimals, ties away from zero; Python's "%.7f"
    # rounds the exact value too, but ties to even. An exact tie needs 8 decimals ending in 5,
    # which for a binary fraction means x * 256 is an odd integer; only those take Decimal.
    scaled = abs(x) * 256.0  # exact: a power-of-two scale
    if not (scaled.is_integer() and scaled % 2 == 1):
        return float(f"{x:.{_DECIMALS}f}")
    with localcontext() as ctx:
        ctx.prec = 40
        fixed = Decimal(x).quantize(Decimal(1).scaleb(-_DECIMALS), rounding=ROUND_HALF_UP)
    return float(fixed)


def _element_strings(flat: np.ndarray, dtype: str) -> list[str]:
    """Return the unpadded text of each element of a flat array, as rank >= 1 tensors show it."""
    if dtype == "bool":
        return ["true" if v else "false" for v in flat.tolist()]
    if dtype == "string":
        return [f"'{v}'" for v in flat.tolist()]
    if dtype == "int32":
        return [str(v) for v in flat.tolist()]
    # Many tensors repeat values (zeros, one-hot rows), so format each distinct value once.
    cache: dict[float, str] = {}
    out = []
    for v in flat.tolist():
        s = cache.get(v)
        if s is None:
            s = cache[v] = js_number_to_string(_rounded(v))
        out.append(s)
    return out


def _scalar_string(value: object, dtype: str) -> str:
    """Return a rank-0 tensor's text: the plain JS string of the value, without rounding."""
    if dtype == "bool":
        return "true" if value else "false"
    if dtype == "string":
        return str(value)
    if dtype == "int32":
        return str(int(value))  # type: ignore[call-overload]
    return js_number_to_string(float(value))  # type: ignore[arg-type]


def _shown(size: int) -> list[int | None]:
    """Return the indices shown along an axis of ``size``, with None where ``...`` goes."""
    if size > _LIMIT:
        return [*range(_EDGE), None, *range(size - _EDGE, size)]
    return list(range(size))


def _block(texts: np.ndarray, widths: list[int], is_last: bool) -> list[str]:
    """Return the lines of a sub-tensor, given its element texts as an object array (rank >= 1).

    A blank separator line is the empty string; enclosing blocks leave it unindented.
    """
    rank = texts.ndim
    if rank == 1:
        # widths is empty for a rank-1 tensor: TF.js pads only the columns of matrices and up.
        pad = widths or [0] * texts.shape[0]
        cells = ["..." if j is None else texts[j].ljust(pad[j]) for j in _shown(texts.shape[0])]
        return ["[" + ", ".join(cells) + "]"]

    lines: list[str] = []
    size = texts.shape[0]
    for i in _shown(size):
        if i is None:
            lines.append("...")
        else:
            lines.extend(_block(texts[i], widths, i == size - 1))
    # Rows of a matrix end in a comma; deeper blocks already end in one (their closing line).
    sep = "," if rank == 2 else ""
    content = [n for n, line in enumerate(lines) if line]
    if not content:
        return _empty(rank, is_last)
    first, last = content[0], content[-1]
    for n in content:
        line = lines[n]
        if n == first:
            line = "[" + line + sep
        elif n != last:
            line = " " + line + sep
        if n == last:
            # TF.js opens the first line and closes the last one independently, so a single
            # row gets both: "[[1, 2],]" with a leading space, as tfjs-core prints it.
            line = " " + line + "]" + ("" if is_last else ",")
        lines[n] = line
    if not is_last:
        lines.extend([""] * (rank - 1))
    return lines


def _empty(rank: int, is_last: bool) -> list[str]:
    """Return the lines of a block whose first axis has length 0: " []", leading space included."""
    return [" []" + ("" if is_last else ",")] + ([] if is_last else [""] * (rank - 1))


def _check(values: object, dtype: str) -> np.ndarray:
    """Validate the arguments and return the values as an array of the dtype's numpy kind."""
    if dtype not in _DTYPES:
        raise ValueError(f"format_tensor: dtype must be one of {_DTYPES}, got {dtype!r}")
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if dtype == "string":
        if kind not in "USO":
            raise TypeError(f"format_tensor: dtype 'string' needs str values, got {arr.dtype}")
        return arr
    if kind not in "biuf":
        raise TypeError(
            f"format_tensor: dtype {dtype!r} needs numeric or bool values, got numpy {arr.dtype}"
        )
    if dtype == "int32" and kind == "f":
        raise TypeError("format_tensor: dtype 'int32' needs integer values, got floating point")
    target = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}[dtype]
    return arr.astype(target, copy=False)


def format_tensor(values: np.ndarray, dtype: str, verbose: bool = False) -> str:
    """Return the text TF.js's ``tensor.print(verbose)`` logs (without the final newline).

    It is also exactly what ``tensor.toString(verbose)`` returns.

    Args:
        values: the tensor's values, with the tensor's shape (a 0-d array for a scalar).
        dtype: the TF.js dtype: 'float32', 'int32', 'bool' or 'string'.
        verbose: add the dtype, rank and shape lines, as ``print(true)`` does.

    Example:
        >>> print(format_tensor(np.array([[1.5, -2], [100, 0.001]]), "float32"))
        Tensor
            [[1.5, -2   ],
             [100, 0.001]]
    """
    arr = _check(values, dtype)
    shape = arr.shape
    lines = ["Tensor"]
    if verbose:
        lines += [
            f"  dtype: {dtype}",
            f"  rank: {len(shape)}",
            f"  shape: [{','.join(str(d) for d in shape)}]",
            "  values:",
        ]
    if arr.ndim == 0:
        body = [_scalar_string(arr.item(), dtype)]
    else:
        texts = np.empty(arr.size, dtype=object)
        texts[:] = _element_strings(arr.reshape(-1), dtype)
        texts = texts.reshape(shape)
        widths: list[int] = []
        if arr.ndim >= 2 and arr.size:
            # Widths count every row, the ones hidden by "..." included.
            columns = texts.reshape(-1, shape[-1])
            widths = [max(len(s) for s in columns[:, j]) for j in range(shape[-1])]
        body = _block(texts, widths, True)
    lines += ["    " + line if line else "" for line in body]
    return "\n".join(lines)
