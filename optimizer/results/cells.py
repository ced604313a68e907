"""User text made safe for the cells of spreadsheets: never a formula, never a character the
file format cannot carry.

Scenario files travel between ministries, and a name such as ``=HYPERLINK(...)`` must reach a
workbook or a CSV file as the text it is, not as a live formula (CSV injection). The rules
follow the usual guidance on CSV injection (OWASP):

- **Excel** (openpyxl): every string is stored as a string cell, whatever its first character,
  so nothing is ever a formula; characters that XML 1.0 cannot carry (control characters other
  than tab, line feed and carriage return) are written as ``\\xNN`` escapes.
- **CSV**: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading apostrophe (``'=1+1``), which spreadsheet programs show and never evaluate. Numbers
  are untouched (they are never text cells).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_text(text: str) -> str:
    """``text`` with the characters an Excel file cannot hold written as ``\\xNN``."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def append_row(ws: Any, row: list[Any]) -> None:
    """Append ``row`` to an openpyxl worksheet with every string stored as text (never a
    formula) and made safe to carry (:func:`excel_text`)."""
    ws.append([excel_text(v) if isinstance(v, str) else v for v in row])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


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
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            risky = s.str.startswith(_FORMULA_START, na=False)
            if risky.any():
                out = table.copy() if out is table else out
                out.loc[risky.to_numpy(), col] = "'" + s[risky].astype(str)
    if any(isinstance(c, str) and c.startswith(_FORMULA_START) for c in table.columns):
        out = out.rename(columns=csv_text)
    return out
