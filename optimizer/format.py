"""How numbers read in the terminal and in messages: one place, so that every command writes
money and quantities the same way."""

from __future__ import annotations

import math

#: (threshold, divisor, suffix) from the largest down: euros read as bn, M, k or plain.
_TIERS = ((1e9, 1e9, "bn"), (1e6, 1e6, "M"), (1e3, 1e3, "k"))


def _tier(v: float) -> tuple[float, str]:
    """``v`` in the largest unit it reaches, with that unit's suffix."""
    for threshold, divisor, suffix in _TIERS:
        if abs(v) >= threshold:
            return v / divisor, suffix
    return v, ""


def money(v: float | None, digits: int = 2) -> str:
    """Euros with a suffix people read at a glance: ``EUR 12.50M``, ``EUR 1.20bn``; ``-`` for
    a missing value (None or NaN)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    scaled, suffix = _tier(v)
    if suffix == "k":
        return f"EUR {scaled:,.{max(1, digits - 1)}f}k"
    if suffix:
        return f"EUR {scaled:,.{digits}f}{suffix}"
    return f"EUR {v:,.0f}" if abs(v) >= 100 or v == int(v) else f"EUR {v:,.2f}"


def money_short(v: float) -> str:
    """Euros to four significant digits, for sentences: ``EUR 1M``, ``EUR 16.15M``."""
    scaled, suffix = _tier(v)
    return f"EUR {scaled:,.4g}{suffix}"


def quantity(v: float) -> str:
    """A quantity of a good: ``40``, ``6.786``, ``12,500``."""
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
