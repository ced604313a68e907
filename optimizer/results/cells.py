"""What goes into the cells of the files a run writes: user text made safe (never a formula,
never a character the file format cannot carry), and numbers without float noise.

Scenario files travel between ministries, and a name such as ``=HYPERLINK(...)`` must reach a
workbook or a CSV file as the text it is, not as a live formula (CSV injection). The rules
follow the usual guidance on CSV injection (OWASP):

- **Excel** (openpyxl): every string is stored as a string cell, whatever its first character,
  so nothing is ever a formula; characters that XML 1.0 cannot carry (control characters other
  than tab, line feed and carriage return) are written as ``\\xNN`` escapes.
- **CSV**: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading apostrophe (``'=1+1``), which spreadsheet programs show and never evaluate. Numbers
  are untouched (they are never text cells).

Numbers: every float written to a CSV file, a workbook or a JSON file is rounded to
:data:`SIGNIFICANT_DIGITS` significant digits (:func:`round_figures`), here and nowhere else, so
that ``0.024`` is not written ``0.02400000000000013`` nor a probability ``0.3999999999999999``.
The solver's answers are good to its tolerances (HiGHS: 1e-7 on feasibility and optimality), far
coarser than the 12th digit, so nothing meaningful is lost; the noise of float arithmetic sits in
the 15th to 17th digit, so all of it goes. Twelve digits rather than fewer keep every figure
within 1e-12 (relative) of the value computed, so sums of a table still match the totals of
``portfolio.json`` to that precision.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

#: Significant digits of every float written to a results file (see the module's docstring).
SIGNIFICANT_DIGITS = 12

_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: pandas' inferred kinds of a column that may hold text (``infer_dtype``).
_TEXTUAL = frozenset({"string", "mixed", "mixed-integer", "mixed-integer-float", "unknown-array"})


def excel_text(text: str) -> str:
    """``text`` with the characters an Excel file cannot hold written as ``\\xNN``."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return excel_text(value)
    if isinstance(value, float):
        return round_figure(value)
    return value


def append_row(ws: Any, row: list[Any]) -> None:
    """Append ``row`` to an openpyxl worksheet with every string stored as text (never a
    formula) and made safe to carry (:func:`excel_text`), every float rounded
    (:func:`round_figure`).

    Text goes in as a :class:`openpyxl.cell.Cell` typed ``s`` before the append, rather than
    retyped after it through ``ws[ws.max_row]``, which scans every cell of the sheet on each
    row: quadratic, 10 s of a 1,000-row sheet."""
    from openpyxl.cell import Cell

    values = []
    for value in row:
        value = _cell(value)
        if isinstance(value, str):
            value = Cell(ws, value=value)
            value.data_type = "s"
        values.append(value)
    ws.append(values)


def text_cell(ws: Any, text: str) -> Any:
    """A cell of a write-only (streaming) openpyxl sheet holding ``text`` as text, never a
    formula (:func:`excel_text` applied)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=excel_text(text))
    cell.data_type = "s"
    return cell


def csv_text(value: Any) -> Any:
    """A CSV cell's value: text that a spreadsheet would read as a formula gets a leading
    apostrophe; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with :func:`csv_text` applied to every text cell and header (numbers untouched;
    vectorised, and the table is copied only when something changes)."""
    out = table
    for col in table.columns:
        s = table[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            if any(isinstance(c, str) for c in cats):
                new = [csv_text(c) for c in cats]
                if new != list(cats):
                    out = table.copy() if out is table else out
                    out[col] = s.cat.rename_categories(new)
        elif (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)) and (
            pd.api.types.infer_dtype(s, skipna=True) in _TEXTUAL
        ):  # an object column of booleans (a flag missing in some runs) holds no text
            risky = s.str.startswith(_FORMULA_START, na=False)
            if risky.any():
                out = table.copy() if out is table else out
                out.loc[risky.to_numpy(), col] = "'" + s[risky].astype(str)
    if any(isinstance(c, str) and c.startswith(_FORMULA_START) for c in table.columns):
        out = out.rename(columns=csv_text)
    return out


#: Exact powers of ten as floats (10**0 ... 10**22 are exactly representable).
_POW10 = np.array([10.0**k for k in range(23)])


#: Values rounded per step: temporaries stay in cache and are reused, twice as fast as whole
#: columns of millions of values (fresh arrays cost page faults).
_CHUNK = 1 << 17


def round_figures(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """``values`` (floats) rounded to ``digits`` significant digits, vectorised.

    Each value becomes the float nearest to its rounded decimal (``0.02400000000000013`` ->
    ``0.024``), which Python, pandas, Arrow and openpyxl all print in its short form: the value
    is scaled by an exact power of ten, rounded to a whole number, and scaled back with one
    correctly rounded operation. Powers of ten are exact up to 1e22, so values whose scale lies
    beyond that (below 1e-11 or at or above 1e34 with 12 digits), zeros and non-finite values
    are returned unchanged. Ufuncs with ``where=`` on blocks of :data:`_CHUNK` values, no fancy
    indexing: ``scenarios.csv`` has tens of millions of values at scale (about 0.08 s per
    million on a loaded 2-core machine).
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        return _round_block(x.ravel(), digits).reshape(x.shape)
    out = np.empty_like(x)
    for start in range(0, len(x), _CHUNK):
        out[start : start + _CHUNK] = _round_block(x[start : start + _CHUNK], digits)
    return out


def _round_block(x: np.ndarray, digits: int) -> np.ndarray:
    size = np.abs(x)
    ok = np.isfinite(x) & (size > 0)
    np.log10(size, out=size, where=ok)
    exponent = (digits - 1) - np.floor(size, out=size, where=ok)  # 10**exponent scales x
    ok &= np.abs(exponent) <= 22
    exponent[~ok] = 0
    up = exponent >= 0  # x * 10**e is exact to round; else x / 10**-e
    scale = _POW10[np.abs(exponent).astype(np.intp)]
    out = np.empty_like(x)
    np.multiply(x, scale, out=out, where=up)
    np.divide(x, scale, out=out, where=~up)
    np.round(out, out=out)
    np.divide(out, scale, out=out, where=up)
    np.multiply(out, scale, out=out, where=~up)
    return np.where(ok, out, x)


_POW10_FLOATS = tuple(float(10**i) for i in range(23))


def round_figure(value: float) -> float:
    """One float rounded as by :func:`round_figures` (for JSON and workbook cells), the same
    operations in plain Python: ``portfolio.json`` of 20,000 futures holds 300,000 figures, and
    a NumPy call per figure cost seconds."""
    if not math.isfinite(value) or value == 0:
        return value
    exponent = (SIGNIFICANT_DIGITS - 1) - math.floor(math.log10(abs(value)))
    if abs(exponent) > 22:
        return float(value)
    scale = _POW10_FLOATS[abs(exponent)]
    if exponent >= 0:
        return round(value * scale) / scale
    return round(value / scale) * scale


def round_table(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every float column rounded by :func:`round_figures`: a new frame
    sharing the other columns (a deep copy of ``scenarios.csv`` at the ladder's L size took
    longer than the rounding itself); ``table`` is not changed."""
    floats = [c for c in table.columns if pd.api.types.is_float_dtype(table[c].dtype)]
    if not floats:
        return table
    out = table.copy(deep=False)  # new columns replace the old; the input is left as it is
    for col in floats:
        out[col] = round_figures(table[col].to_numpy(dtype=float))
    return out
