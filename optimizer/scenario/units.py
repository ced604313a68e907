"""Parsing of the scenario format's quantities: money, shares and durations.

Every parser raises ``ValueError`` with a message written for an economist (what was expected,
what was found); the schema turns that into a located error message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
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
    raise ValueError(
        f"expected a number, got {value!r}" + (_UNIT_HINT if _with_unit(value) else "")
    )


#: Kilograms per mass unit a good may be counted in (case matters: Mt is a megatonne).
MASS_KG = {"g": 1e-3, "kg": 1.0, "t": 1e3, "tonne": 1e3, "tonnes": 1e3, "kt": 1e6, "Mt": 1e9}
_MASS = "|".join(sorted(MASS_KG, key=len, reverse=True))
_PER_YEAR = r"(?:\s*(?:/|per)\s*(?:yr|year|a))?"
_QTY_RE = re.compile(
    rf"^\s*([-+]?[0-9][0-9_,]*(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)\s*({_MASS}){_PER_YEAR}\s*$"
)
_PRICE_RE = re.compile(
    rf"^\s*(?:(?:eur|€)\s*)?([-+]?[0-9][0-9_,]*(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)\s*"
    rf"(k|m|bn|b)?\s*(?:eur|€)?\s*(?:/|per)\s*({_MASS}){_PER_YEAR}\s*$",
    re.IGNORECASE,
)


def _mass_kg(unit: str) -> float | None:
    return MASS_KG.get(unit.strip()) if isinstance(unit, str) else None


def convert_good_quantity(value: object, good_unit: str) -> object:
    """``value`` in the good's unit when it is written with a mass unit and the good is
    counted in one: ``25 kt`` is 25000 for a good in t; ``55 EUR/kg`` is 55000 (euros per t).
    Anything else is returned unchanged (the schema then reads it, or says what to write)."""
    per_unit = _mass_kg(good_unit)
    if per_unit is None or not isinstance(value, str):
        return value
    m = _QTY_RE.match(value)
    if m:
        number = float(m.group(1).replace("_", "").replace(",", ""))
        return _finite(number * MASS_KG[m.group(2)] / per_unit, "a quantity")
    m = _PRICE_RE.match(value)
    if m:
        unit = m.group(3)
        written = MASS_KG.get(unit) or MASS_KG.get(unit.lower()) or MASS_KG.get(unit.capitalize())
        if written is None:  # "55 EUR/MT": case matters for mass units
            return value
        number = float(m.group(1).replace("_", "").replace(",", ""))
        money = number * _MONEY_SUFFIX[(m.group(2) or "").lower()]
        return _finite(money * per_unit / written, "an amount of money")
    return value


def convert_goods_units(data: dict) -> None:
    """Apply :func:`convert_good_quantity` in place to every value under ``goods.<good>``,
    with that good's ``unit``."""
    goods = data.get("goods") if isinstance(data, dict) else None
    if not isinstance(goods, dict):
        return

    def walk(node: object, unit: str) -> object:
        if isinstance(node, dict):
            for k, v in node.items():
                if k != "unit":
                    node[k] = walk(v, unit)
            return node
        if isinstance(node, list):
            return [walk(v, unit) for v in node]
        return convert_good_quantity(node, unit)

    for good in goods.values():
        if isinstance(good, dict) and _mass_kg(good.get("unit")) is not None:
            walk(good, good["unit"])


_UNIT_HINT = (
    "; hint: write the number alone, in the good's own unit (its `unit:`); a good counted in "
    "t, kt or Mt also takes '25 kt' and prices such as '55 EUR/kg'"
)


def _with_unit(value: object) -> bool:
    """Whether ``value`` looks like a number followed by a unit (``25 kt``, ``55 EUR/kg``)."""
    return isinstance(value, str) and bool(re.match(r"^\s*(?:eur|€)?\s*[-+]?[0-9]", value, re.I))


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
        + (_UNIT_HINT if _with_unit(value) else "")
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


_RATE_RE = re.compile(
    r"^\s*([0-9]+(?:\.[0-9]*)?(?:e[-+]?[0-9]+)?)\s*(?:per|/)\s*([a-z]+?)s?\s*$", re.IGNORECASE
)


def parse_rate_per_year(value: object) -> float:
    """An event rate, ``0.4 per year`` or ``0.4/year`` (also ``per month``, ``per quarter``,
    ... converted), returned in events **per year**. A bare number is refused: per year or per
    month would be a guess."""
    if isinstance(value, str):
        m = _RATE_RE.match(value)
        if m:
            unit = m.group(2).lower()
            if unit in DURATION_YEARS:
                return _finite(float(m.group(1)) / DURATION_YEARS[unit], "a rate")
            raise ValueError(
                f"unknown time unit {m.group(2)!r} in {value!r}; write the rate per year, such "
                "as '0.4 per year'"
            )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(
            f"a rate needs its time unit: write '{value} per year', got {value!r}"
            f"; hint: a rate counts events per year, such as '0.4 per year' (or '0.4/year')"
        )
    raise ValueError(
        f"expected a rate such as '0.4 per year', got {value!r}"
        "; hint: a rate counts events per year, such as '0.4 per year' (or '0.4/year')"
    )


def format_rate(per_year: float) -> str:
    """The inverse of :func:`parse_rate_per_year`: ``0.4 per year``."""
    return f"{per_year!r} per year"


# --- distributions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """A quantity that is either one value or drawn from a distribution, as written in a risk
    model: ``kind`` is ``value`` (``values = (v,)``), ``uniform`` (``(min, max)``),
    ``triangular`` (``(min, mode, max)``) or ``discrete`` (``values`` with their ``weights``).
    Values are in the quantity's own unit (shares as fractions, durations in years)."""

    kind: str
    values: tuple[float, ...]
    weights: tuple[float, ...] = ()

    @classmethod
    def fixed(cls, value: float) -> Spread:
        return cls("value", (float(value),))

    def __str__(self) -> str:
        if self.kind == "value":
            return f"{self.values[0]:g}"
        return f"{self.kind} {', '.join(f'{v:g}' for v in self.values)}"


def spread_parser(
    parse: Callable[[object], float],
    show: Callable[[float], str],
    lowest: float,
    highest: float | None,
    above_lowest: bool,
    name: str,
    example: str,
) -> Callable[[object], Spread]:
    """A parser of the four written forms of a :class:`Spread` whose single values are read by
    ``parse``: a value, ``{min, max}`` (uniform), ``{min, mode, max}`` (triangular) or
    ``[[value, weight], ...]`` (discrete). Each value must be >= ``lowest`` (> when
    ``above_lowest``) and <= ``highest``; ``show`` writes a value back for messages;
    ``example`` is a valid value for the hint of a value that cannot be read."""
    bound = f"above {show(lowest)}" if above_lowest else f"at least {show(lowest)}"
    if highest is not None:
        bound += f" and at most {show(highest)}"

    def one(value: object, where: str) -> float:
        if isinstance(value, Spread):
            raise ValueError("a distribution cannot be nested in another")
        try:
            x = parse(value)
        except ValueError as exc:
            raise ValueError(
                f"{where}{exc}; hint: write a value such as {example}, or a distribution "
                f"such as {{min: {example}, max: ...}}"
            ) from None
        low = x <= lowest if above_lowest else x < lowest
        if low or (highest is not None and x > highest):
            raise ValueError(
                f"{where}{show(x)} is out of range: it must be {bound}"
                "; hint: change the value, or its unit"
            )
        return x

    forms = (
        "a value, {min, max} (uniform), {min, mode, max} (triangular) or "
        "[[value, weight], ...] (discrete)"
    )

    def parse_spread(value: object) -> Spread:
        if isinstance(value, Spread):
            return value
        if isinstance(value, dict):
            keys = set(value)
            if keys == {"min", "max"}:
                lo, hi = one(value["min"], "min "), one(value["max"], "max ")
                if lo > hi:
                    raise ValueError(
                        f"min ({show(lo)}) is above max ({show(hi)})"
                        "; hint: swap them, or write one value for a fixed quantity"
                    )
                return Spread("uniform", (lo, hi))
            if keys == {"min", "mode", "max"}:
                lo, mo, hi = (one(value[k], f"{k} ") for k in ("min", "mode", "max"))
                if lo > hi:
                    raise ValueError(
                        f"min ({show(lo)}) is above max ({show(hi)})"
                        "; hint: swap them, or write one value for a fixed quantity"
                    )
                if not lo <= mo <= hi:
                    raise ValueError(
                        f"mode ({show(mo)}) is not between min ({show(lo)}) and max "
                        f"({show(hi)}); hint: the mode is the most likely value, inside the range"
                    )
                return Spread("triangular", (lo, mo, hi))
            listed = ", ".join(str(k) for k in value) or "none"
            raise ValueError(
                f"expected {forms}, got a section with keys {listed}"
                "; hint: use the keys min and max, and optionally mode"
            )
        if isinstance(value, list):
            if not value:
                raise ValueError(f"expected {forms}, got an empty list")
            values, weights = [], []
            for i, item in enumerate(value):
                if not isinstance(item, list) or len(item) != 2:
                    raise ValueError(
                        f"item {i + 1} of the list must be a pair [value, weight], got {item!r}"
                        "; hint: write for example [[50%, 3], [100%, 1]]"
                    )
                values.append(one(item[0], f"value {i + 1} "))
                w = parse_number(item[1])
                if w < 0:
                    raise ValueError(
                        f"weight {i + 1} is {w:g}, below 0; hint: weights are relative "
                        "frequencies, 0 or more"
                    )
                weights.append(w)
            if sum(weights) <= 0:
                raise ValueError(
                    "the weights add up to 0; hint: give at least one value a weight above 0"
                )
            return Spread("discrete", tuple(values), tuple(weights))
        return Spread.fixed(one(value, ""))

    parse_spread.__name__ = name
    return parse_spread


def spread_writer(show: Callable[[float], object]) -> Callable[[Spread], object]:
    """The inverse of a :func:`spread_parser`: a spread back in its written form."""

    def write(spread: Spread) -> object:
        v = spread.values
        if spread.kind == "value":
            return show(v[0])
        if spread.kind == "uniform":
            return {"min": show(v[0]), "max": show(v[1])}
        if spread.kind == "triangular":
            return {"min": show(v[0]), "mode": show(v[1]), "max": show(v[2])}
        return [[show(x), w] for x, w in zip(v, spread.weights, strict=True)]

    return write
