"""How numbers read in the terminal and in messages: one place, so that every command writes
money and quantities the same way."""

from __future__ import annotations

import math


def money(v: float | None, digits: int = 2) -> str:
    """Euros with a suffix people read at a glance: ``EUR 12.50M``, ``EUR 1.20bn``; ``-`` for
    a missing value (None or NaN)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    a = abs(v)
    if a >= 1e9:
        return f"EUR {v / 1e9:,.{digits}f}bn"
    if a >= 1e6:
        return f"EUR {v / 1e6:,.{digits}f}M"
    if a >= 1e3:
        return f"EUR {v / 1e3:,.{max(1, digits - 1)}f}k"
    return f"EUR {v:,.0f}" if a >= 100 or v == int(v) else f"EUR {v:,.2f}"


def quantity(v: float) -> str:
    """A quantity of a good: ``40``, ``6.786``, ``12,500``."""
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"


def money_short(v: float) -> str:
    """Euros to four significant digits, for sentences: ``EUR 1M``, ``EUR 16.15M``."""
    a = abs(v)
    if a >= 1e9:
        return f"EUR {v / 1e9:,.4g}bn"
    if a >= 1e6:
        return f"EUR {v / 1e6:,.4g}M"
    if a >= 1e3:
        return f"EUR {v / 1e3:,.4g}k"
    return f"EUR {v:,.4g}"
