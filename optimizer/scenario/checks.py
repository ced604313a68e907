"""Checks that need the whole validated scenario: references between sections, and quantities
that contradict each other.

The schema checks each value on its own; here we check that names refer to something that
exists (countries, goods), that the probabilities leave room for the no-disruption scenario, and
that requirements can be met at all (coverage within the stockpile's room and the budget, a
module that fits). Problems that make the model infeasible or meaningless are errors; problems
that only make the results look odd are warnings.

The issues returned carry a key path but no file or line: the loader locates them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from optimizer.scenario.errors import Issue, Severity
from optimizer.scenario.schema import Scenario
from optimizer.scenario.units import format_duration

#: A key path as a tuple: mapping keys as strings, list positions as ints.
KeyPath = tuple[str | int, ...]

_DAYS_PER_YEAR = 365.0
_TOL = 1e-9


def format_path(path: Sequence[str | int]) -> str:
    """The dotted form of a key path: ``goods.gallium.suppliers.japan.capacity``; list items as
    ``hits[0]`` (``disruptions.ban.hits[0].countries[1]``)."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


#: The sections whose lists of countries may also name routes (hits, risk-model events).
HIT_SECTIONS = ("disruptions", "risk_model")


def route_not_here(name: str) -> tuple[str, str]:
    """Message and hint for a route named in a list of countries that is not a hit's."""
    return (
        f"`{name}` is a route, not a country: only a hit or a risk-model event may name a "
        "route; limits and caps count supply by country",
        "list the countries whose suppliers use the route instead",
    )


def check_references(scenario: Scenario) -> list[Issue]:
    """Cross-section checks of a validated scenario; issues without file or line (the loader
    locates them from ``Issue.path``). Errors and warnings, in the order found."""
    return [issue for _, issue in located_checks(scenario)]


def located_checks(scenario: Scenario) -> list[tuple[KeyPath, Issue]]:
    """Like :func:`check_references`, each issue paired with its key path as a tuple (which the
    loader uses to find the line; the dotted ``Issue.path`` cannot always be split back)."""
    found: list[tuple[KeyPath, Issue]] = []

    def add(
        path: KeyPath, message: str, hint: str | None = None, severity: Severity = "error"
    ) -> None:
        issue = Issue(None, None, None, format_path(path), message, hint, None, severity)
        found.append((path, issue))

    countries = list(scenario.countries)
    goods = list(scenario.goods)
    groups = [*scenario.groups, *(g for c in scenario.countries.values() for g in c.groups)]

    routes = scenario.routes

    def country_hint(name: str, also: Sequence[str] = ()) -> str:
        match = closest(name, [*countries, *dict.fromkeys(groups), *also])
        return f"did you mean `{match}`?" if match else "add it under countries:"

    def good_hint(name: str) -> str:
        match = closest(name, goods)
        return f"did you mean `{match}`?" if match else f"the goods are: {', '.join(goods)}"

    def unknown_country(path: KeyPath, name: str) -> None:
        if name in routes and path[0] in HIT_SECTIONS:
            return  # a hit or an event may name a route (routes.py checks the routes)
        if name in routes:
            add(path, *route_not_here(name))
            return
        listed = ", ".join(countries) if countries else "none are listed"
        hit = path[0] in HIT_SECTIONS
        hint = country_hint(name, list(routes) if hit else ())
        add(
            path,
            f"unknown country{' or route' if hit and routes else ''} `{name}` "
            f"(countries: {listed})",
            hint,
        )

    def unknown_good(path: KeyPath, name: str) -> None:
        add(path, f"unknown good `{name}`", good_hint(name))

    # --- references ---------------------------------------------------------------------------
    for g, good in scenario.goods.items():
        for s, supplier in good.suppliers.items():
            if supplier.country not in scenario.countries:
                unknown_country(("goods", g, "suppliers", s, "country"), supplier.country)
            at: KeyPath = ("goods", g, "suppliers", s, "origin")
            for c in supplier.origin:
                if c not in scenario.countries:
                    in_groups = c in groups
                    add(
                        (*at, c),
                        f"unknown country `{c}`"
                        + (
                            " (a group cannot be an origin: the shares are per country)"
                            if in_groups
                            else ""
                        ),
                        "name each country with its own share" if in_groups else country_hint(c),
                    )
                elif c == supplier.country:
                    add(
                        (*at, c),
                        f"`{c}` is the supplier's own country: a hit on it already cuts the "
                        "supplier whole, its origin share would count the hit twice",
                        f"remove `{c}` from origin",
                    )
            if sum(supplier.origin.values()) > 1 + _TOL:
                add(
                    at,
                    f"the origin shares add up to {_pct(sum(supplier.origin.values()))}, more "
                    "than 100 % of what the supplier sells",
                    "lower them so they add up to at most 100 %",
                )
    _check_inputs(scenario, add, unknown_good)
    for line_name, line in scenario.budget.lines.items():
        for i, g in enumerate(line.goods or []):
            if g not in scenario.goods:
                unknown_good(("budget", "lines", line_name, "goods", i), g)
    cap = scenario.risk.concentration_cap
    if cap is not None:
        for i, c in enumerate(cap.countries or []):
            if c not in scenario.countries:
                unknown_country(("risk", "concentration_cap", "countries", i), c)
    for name, limit in scenario.risk.limits.items():
        at: KeyPath = ("risk", "limits", name)
        if (limit.max_share is None) == (limit.min_share is None):
            add(
                at,
                "a limit needs one of max_share (a cap) or min_share (a floor)"
                + (", not both" if limit.max_share is not None else ", found neither"),
                "write `max_share: 30%` for at most 30 %, `min_share: 50%` for at least 50 %; "
                "two limits for both",
            )
        for i, g in enumerate(limit.goods or []):
            if g not in scenario.goods:
                unknown_good((*at, "goods", i), g)
        if limit.countries != "all":
            for i, c in enumerate(limit.countries):
                if c not in scenario.countries:
                    unknown_country((*at, "countries", i), c)
        for i, c in enumerate(limit.exempt):
            if c not in scenario.countries:
                unknown_country((*at, "exempt", i), c)
        listed = countries if limit.countries == "all" else limit.countries
        limited = set(listed) - set(limit.exempt)
        if limit.min_share and not limit.per_country:
            for g in limit.goods or list(scenario.goods):
                good = scenario.goods.get(g)
                if good is None or not good.suppliers and good.domestic is None:
                    continue
                if good.domestic is None and not any(
                    s.country in limited for s in good.suppliers.values()
                ):
                    add(
                        (*at, "min_share"),
                        f"no supplier of {g} is in the countries this floor lists, and {g} has "
                        "no domestic production: the floor can be met only by buying none of "
                        "it, leaving its whole demand unmet",
                        f"add a supplier of {g} in those countries or a domestic: section, "
                        "or list the goods the floor is for under goods:",
                        "warning",
                    )
        if not limited:
            add(
                (*at, "exempt") if limit.exempt else (*at, "countries"),
                "after the exemptions the limit covers no country: it does nothing",
                "check `countries` and `exempt`",
                "warning",
            )
    for d, disruption in scenario.disruptions.items():
        for h, hit in enumerate(disruption.hits):
            for i, c in enumerate(hit.countries):
                if c not in scenario.countries:
                    unknown_country(("disruptions", d, "hits", h, "countries", i), c)
            for i, g in enumerate(hit.goods or []):
                if g not in scenario.goods:
                    unknown_good(("disruptions", d, "hits", h, "goods", i), g)

    rm = scenario.risk_model
    for e, event in (rm.events if rm is not None else {}).items():
        for i, c in enumerate(event.countries):
            if c not in scenario.countries:
                unknown_country(("risk_model", "events", e, "countries", i), c)
        for i, g in enumerate(event.goods or []):
            if g not in scenario.goods:
                unknown_good(("risk_model", "events", e, "goods", i), g)
    if rm is not None and rm.events and scenario.disruptions:
        add(
            ("risk_model",),
            "the file has both hand-written disruptions: and a risk_model: with events; the "
            "engine would not know which futures to optimise over",
            "keep one: remove disruptions: to optimise over sampled futures (in a file that "
            "extends another, write disruptions: null), or remove risk_model: to keep the "
            "hand-written stories",
        )
    if rm is not None:
        for e, event in rm.events.items():
            if event.start is not None and min(event.start.values) >= scenario.window.years - _TOL:
                add(
                    ("risk_model", "events", e, "start"),
                    "starts at or after the window's end "
                    f"({format_duration(scenario.window.years)}): it never happens in the window",
                    "start it earlier or lengthen window.years",
                    "warning",
                )

    # --- disruptions --------------------------------------------------------------------------
    total_probability = sum(d.probability for d in scenario.disruptions.values())
    if total_probability > 1 + _TOL:
        listed = ", ".join(
            f"{name} {_pct(d.probability)}" for name, d in scenario.disruptions.items()
        )
        add(
            ("disruptions",),
            f"probabilities add up to {_pct(total_probability)}, more than 100 %; the "
            "no-disruption scenario needs what is left",
            f"lower some of them so they add up to at most 100 % ({listed})",
        )
    years = scenario.window.years
    window_end = format_duration(years)
    for d, disruption in scenario.disruptions.items():
        if disruption.start >= years - _TOL:
            add(
                ("disruptions", d, "start"),
                f"starts at {format_duration(disruption.start)}, at or after the window's end "
                f"({window_end}): it never happens in the window",
                "start it earlier or lengthen window.years",
                "warning",
            )
            continue
        for h, hit in enumerate(disruption.hits):
            if hit.start is not None and hit.start >= years - _TOL:
                add(
                    ("disruptions", d, "hits", h, "start"),
                    f"starts at {format_duration(hit.start)}, at or after the window's end "
                    f"({window_end}): it never happens in the window",
                    "start it earlier or lengthen window.years",
                    "warning",
                )

    # --- goods --------------------------------------------------------------------------------
    coverage_cost: dict[str, float] = {}
    for g, good in scenario.goods.items():
        unit = good.unit
        stock = good.stockpile
        domestic = good.domestic

        if not good.suppliers and domestic is None and stock is None:
            if good.demand > 0:
                add(
                    ("goods", g),
                    "has no suppliers, no domestic capacity and no stockpile: its whole demand "
                    "is a shortfall",
                    "add suppliers:, domestic: or stockpile:",
                    "warning",
                )
        else:
            spot = sum(s.capacity for s in good.suppliers.values())
            reserve = sum(s.reserve.max for s in good.suppliers.values() if s.reserve)
            home = domestic.max if domestic is not None else 0.0
            supply = spot + reserve + home
            cut = good.demand_reduction.max_share if good.demand_reduction else 0.0
            needed = good.demand * (1 - cut)
            if supply < needed * (1 - _TOL):
                after_cut = (
                    f" ({_qty(needed, unit)} after the largest demand reduction)" if cut > 0 else ""
                )
                add(
                    ("goods", g, "demand"),
                    f"its sources can supply at most {_qty(supply, unit)} a year (suppliers "
                    f"{_num(spot)}, reserves {_num(reserve)}, domestic {_num(home)}), below its "
                    f"demand of {_qty(good.demand, unit)} a year{after_cut}: it will show a "
                    "shortfall every period",
                    "check the capacities and the units (flows are per year)",
                    "warning",
                )

        if stock is not None and stock.max is not None and stock.initial > stock.max * (1 + _TOL):
            add(
                ("goods", g, "stockpile", "initial"),
                f"the initial stock of {_qty(stock.initial, unit)} is more than stockpile.max "
                f"({_qty(stock.max, unit)})",
                "raise stockpile.max or lower stockpile.initial",
            )

        if good.coverage_days is not None and good.coverage_days > 0:
            days = good.coverage_days
            required = good.demand * days / _DAYS_PER_YEAR
            what = f"{_num(days)} days of coverage need a stock of {_qty(required, unit)}"
            if stock is None:
                add(
                    ("goods", g, "coverage_days"),
                    f"{what} at the start, but {g} has no stockpile section",
                    "add a stockpile: section (at least unit_cost) or remove coverage_days",
                )
            else:
                if stock.max is not None and required > stock.max * (1 + _TOL):
                    add(
                        ("goods", g, "coverage_days"),
                        f"{what}, more than stockpile.max ({_qty(stock.max, unit)})",
                        f"raise stockpile.max to at least {_num(required)} or lower coverage_days",
                    )
                to_buy = max(0.0, required - stock.initial)
                cost = to_buy * stock.unit_cost
                coverage_cost[g] = cost
                total = scenario.budget.total
                if total is not None and cost > total * (1 + _TOL):
                    add(
                        ("goods", g, "coverage_days"),
                        f"buying the {_qty(to_buy, unit)} that {_num(days)} days of coverage "
                        f"need costs {_eur(cost)}, more than budget.total ({_eur(total)})",
                        "raise budget.total or lower coverage_days",
                    )

        module = domestic.module if domestic is not None else None
        if domestic is not None and module is not None and module > domestic.max * (1 + _TOL):
            add(
                ("goods", g, "domestic", "module"),
                f"a module of {_qty(module, unit)} a year is larger than domestic.max "
                f"({_qty(domestic.max, unit)} a year): not one whole module can be built",
                "raise domestic.max or use a smaller module",
            )

    # --- coverage against the budget, all goods together -----------------------------------
    total = scenario.budget.total
    if total is not None and len(coverage_cost) > 1:
        single_too_big = any(c > total * (1 + _TOL) for c in coverage_cost.values())
        together = sum(coverage_cost.values())
        if not single_too_big and together > total * (1 + _TOL):
            add(
                ("budget", "total"),
                f"the stock that coverage_days require costs {_eur(together)} for all goods "
                f"together, more than budget.total ({_eur(total)})",
                "raise budget.total or lower coverage_days",
            )
    for line_name, line in scenario.budget.lines.items():
        if line.levers is not None and "stockpile" not in line.levers:
            continue
        covered = [g for g in coverage_cost if line.goods is None or g in line.goods]
        cost = sum(coverage_cost[g] for g in covered)
        if covered and cost > line.limit * (1 + _TOL):
            add(
                ("budget", "lines", line_name, "limit"),
                f"the stock that coverage_days require of {', '.join(covered)} costs "
                f"{_eur(cost)}, more than this line's limit ({_eur(line.limit)})",
                "raise the limit or lower coverage_days",
            )
    found.extend(magnitude_issues(scenario))
    found.extend(text_issues(scenario))
    return found


#: Longest name or key (a good, supplier, country, disruption, budget line, the scenario's
#: name, a unit) and longest description, in characters: results files and the terminal carry
#: them in every row (issue 14, item 14).
MAX_NAME_CHARS, MAX_DESCRIPTION_CHARS = 200, 10_000

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, newlines allowed


def text_issues(scenario: Scenario) -> list[tuple[KeyPath, Issue]]:
    """An error for each name, key or unit that holds a control character (which workbooks
    cannot carry and terminals act on) or is longer than :data:`MAX_NAME_CHARS`, and for a
    description longer than :data:`MAX_DESCRIPTION_CHARS` or holding control characters
    other than tabs and line breaks."""
    found: list[tuple[KeyPath, Issue]] = []

    def check(path: KeyPath, text: str, what: str, limit: int, control: re.Pattern) -> None:
        bad = control.search(text)
        if bad:
            message = (
                f"{what} holds a control character (U+{ord(bad.group()):04X}) that results "
                "files cannot carry"
            )
            issue = Issue(None, None, None, format_path(path), message, "remove it")
            found.append((path, issue))
        if len(text) > limit:
            message = f"{what} is {len(text):,} characters long; at most {limit:,} are allowed"
            hint = "shorten it" + ("; longer text belongs in description:" if limit < 1000 else "")
            found.append((path, Issue(None, None, None, format_path(path), message, hint)))

    def name(path: KeyPath, text: str, what: str) -> None:
        check(path, text, what, MAX_NAME_CHARS, _CONTROL)

    name(("name",), scenario.name, "the name")
    check(
        ("description",),
        scenario.description,
        "the description",
        MAX_DESCRIPTION_CHARS,
        _CONTROL_IN_TEXT,
    )
    for c, country in scenario.countries.items():
        name(("countries", c), c, "a country's key")
        if country.name is not None:
            name(("countries", c, "name"), country.name, "the country's name")
    for g, good in scenario.goods.items():
        name(("goods", g), g, "a good's name")
        name(("goods", g, "unit"), good.unit, "the unit")
        for s in good.suppliers:
            name(("goods", g, "suppliers", s), s, "a supplier's name")
    for d in scenario.disruptions:
        name(("disruptions", d), d, "a disruption's name")
    for line in scenario.budget.lines:
        name(("budget", "lines", line), line, "a budget line's name")
    for e in scenario.risk_model.events if scenario.risk_model is not None else {}:
        name(("risk_model", "events", e), e, "an event's name")
    return found


#: The magnitudes a scenario value may take (in its field's unit: euros, units per year,
#: years, shares): 0, or between these. HiGHS treats |x| >= 1e20 as infinite, and a model whose
#: coefficients span more than about 1e-9..1e12 after its scaling gives answers that are
#: numerically doubtful (a feasible scenario reported infeasible, overflows): issue 14, item 9.
MAGNITUDE_MIN, MAGNITUDE_MAX = 1e-9, 1e12


def magnitude_issues(scenario: Scenario) -> list[tuple[KeyPath, Issue]]:
    """An error for each number of the scenario that the solver cannot represent reliably:
    above :data:`MAGNITUDE_MAX` or nonzero below :data:`MAGNITUDE_MIN` in absolute value."""
    found: list[tuple[KeyPath, Issue]] = []
    stack: list[tuple[KeyPath, object]] = [((), scenario.model_dump())]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in value.items() if isinstance(k, str))
        elif isinstance(value, (list, tuple)):
            stack.extend((path + (i,), v) for i, v in enumerate(value))
        elif isinstance(value, float) and value != 0.0:
            size = abs(value)
            if size > MAGNITUDE_MAX or size < MAGNITUDE_MIN or size != size:
                message = (
                    f"{value:.6g} is outside the range the solver represents reliably: a "
                    "number here must be 0 or between 1e-9 and 1e12 (1,000 bn) in size, because "
                    "HiGHS treats 1e20 as infinite and a model whose numbers span a wider range "
                    "loses precision in its scaling"
                )
                hint = (
                    "if the value is right, express quantities in a larger or smaller unit "
                    "(kt instead of kg) so that the numbers stay in range; otherwise check it "
                    "for a typo"
                )
                found.append((path, Issue(None, None, None, format_path(path), message, hint)))
    found.sort(key=lambda item: item[1].path)
    return found


def _check_inputs(scenario: Scenario, add, unknown_good) -> None:
    """``inputs`` name other goods, never lead back to the good itself, and matter only with
    domestic production."""
    for g, good in scenario.goods.items():
        for i in good.inputs:
            path: KeyPath = ("goods", g, "inputs", i)
            if i == g:
                add(path, f"`{g}` is listed as an input of itself", "remove it from inputs:")
            elif i not in scenario.goods:
                unknown_good(path, i)
        if good.inputs and (good.domestic is None or good.domestic.max <= 0):
            add(
                ("goods", g, "inputs"),
                f"{g} has inputs but no domestic production: inputs are consumed only by "
                "production at home, so they change nothing",
                "add a domestic: section, or remove inputs:",
                "warning",
            )
    # a chain that leads back to where it started (magnet -> oxide -> magnet)
    state: dict[str, int] = {}

    def visit(g: str, trail: list[str]) -> None:
        state[g] = 1
        for i in scenario.goods[g].inputs:
            if i not in scenario.goods or i == g:
                continue
            if state.get(i) == 1:
                cycle = " -> ".join([*trail[trail.index(i) :], g, i] if i in trail else [g, i])
                add(
                    ("goods", g, "inputs", i),
                    f"the inputs make a loop: {cycle}; a good cannot be made from itself",
                    f"remove `{i}` from the inputs of {g}",
                )
            elif state.get(i) is None:
                visit(i, [*trail, g])
        state[g] = 2

    for g in scenario.goods:
        if state.get(g) is None:
            visit(g, [])


# --- formatting helpers -------------------------------------------------------------------------


def closest(name: str, options: Sequence[str]) -> str | None:
    """The option nearest to ``name`` (case-insensitive first), or None."""
    for option in options:
        if option.lower() == name.lower():
            return option
    lowered = {o.lower(): o for o in options}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def _num(x: float) -> str:
    """A quantity for a message: ``40``, ``9.863``, ``12,500``."""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _qty(x: float, unit: str) -> str:
    return f"{_num(x)} {'units' if unit == 'unit' else unit}"


def _pct(share: float) -> str:
    return f"{share * 100:.4g} %"


def _eur(x: float) -> str:
    return f"{x:,.0f} euros"
