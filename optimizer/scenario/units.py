"""Parsing of the scenario format's quantities: money, shares and durations.

Every parser raises ``ValueError`` with a message written for an economist (what was expected,
what was found); the schema turns that into a located error message.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

_MONEY_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "bn": 1e9, "b": 1e9}
_MONEY_RE = re.compile(
    r"^\s*(?:eur\s*|€\s*)?([-+]?[0-9][0-9_,]*(?:\.[0-9]*)?(?:e[-+]?[0-9]+)?)\s*(k|m|bn|b)?\s*(?:eur|€)?\s*$",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"^\s*[-+]?[0-9][0-9_]*(?:\.[0-9]*)?(?:e[-+]?[0-9]+)?\s*$", re.IGNORECASE)

#: Years per unit of each duration word (singular and plural accepted).
DURATION_YEARS = {
    "day": 1 / 365,
    "week": 1 / 52,
    "month": 1 / 12,
    "quarter": 1 / 4,
    "year": 1.0,
}
_DURATION_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)\s*([a-z]+?)s?\s*$", re.IGNORECASE)


def _finite(x: float | int, what: str) -> float:
    try:
        x = float(x)  # an int too large for a float raises OverflowError, not ValueError
    except OverflowError:
        raise ValueError(f"{what} is too large, got a number with {len(str(x))} digits") from None
    if not math.isfinite(x):
        raise ValueError(f"{what} must be a finite number, got {x}")
    return x


def parse_number(value: object) -> float:
    """A plain number; also accepts strings such as ``2.5e6`` or ``2_500`` (PyYAML leaves
    ``2.5e6`` as a string)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return _finite(value, "a number")
    if isinstance(value, str) and _NUMBER_RE.match(value):
        return _finite(float(value.replace("_", "")), "a number")
    raise ValueError(f"expected a number, got {value!r}")


def parse_money(value: object) -> float:
    """Euros. Accepts ``2500000``, ``2.5e6``, ``2_500_000``, ``2.5M``, ``750k``, ``1.2bn``."""
    if isinstance(value, bool):
        raise ValueError(f"expected an amount of money such as 2.5M, 750k or 1.2bn, got {value!r}")
    if isinstance(value, (int, float)):
        return _finite(value, "an amount of money")
    if isinstance(value, str):
        m = _MONEY_RE.match(value)
        if m:
            number = float(m.group(1).replace("_", "").replace(",", ""))
            suffix = (m.group(2) or "").lower()
            return _finite(number * _MONEY_SUFFIX[suffix], "an amount of money")
    raise ValueError(
        f"expected an amount of money such as 2500000, 2.5e6, 2.5M, 750k or 1.2bn, got {value!r}"
    )


def parse_share(value: object) -> float:
    """A fraction in [0, 1], written ``0.65`` or ``65%``. Range checks are the schema's."""
    if isinstance(value, bool):
        raise ValueError(f"expected a share such as 0.65 or 65%, got {value!r}")
    if isinstance(value, (int, float)):
        return _finite(value, "a share")
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                return _finite(float(text[:-1].strip()) / 100.0, "a share")
            except ValueError:
                pass
        elif _NUMBER_RE.match(text):
            return _finite(float(text), "a share")
    raise ValueError(f"expected a share such as 0.65 or 65%, got {value!r}")


def parse_duration_years(value: object) -> float:
    """A duration with its unit (``18 months``, ``2 quarters``, ``3 years``, ``6 weeks``,
    ``90 days``), returned in years. A bare number is refused: its unit would be a guess."""
    if isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m:
            unit = m.group(2).lower()
            if unit in DURATION_YEARS:
                return _finite(float(m.group(1)) * DURATION_YEARS[unit], "a duration")
            raise ValueError(
                f"unknown time unit {m.group(2)!r} in {value!r}; use days, weeks, months, "
                "quarters or years"
            )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(
            f"a duration needs a unit: write '{value} months' or '{value} years', got {value!r}"
        )
    raise ValueError(f"expected a duration such as '18 months' or '2 years', got {value!r}")


def format_duration(years: float) -> str:
    """The inverse of :func:`parse_duration_years`, in the plainest exact unit.

    The text always parses back to exactly ``years`` (so a resolved scenario re-loads to the same
    values): whole years, months, weeks or days when one of them is exact, else the
    shortest decimal number of months or years that does.
    """
    units = (("year", 1.0), ("month", 1 / 12), ("week", 1 / 52), ("day", 1 / 365))
    for unit, per in units:
        n = years / per
        if math.isfinite(n) and abs(n - round(n)) < 1e-9:
            text = f"{round(n)} {unit}" + ("" if round(n) == 1 else "s")
            if parse_duration_years(text) == years:
                return text
    exact = [f"{format(Decimal(repr(years)), 'f')} years"]
    months = years * 12
    if math.isfinite(months) and months >= 0:
        text = f"{format(Decimal(repr(months)), 'f')} months"
        if parse_duration_years(text) == years:
            exact.insert(0, text)
    return min(exact, key=len)
