"""Shipping routes and chokepoints: which suppliers' goods pass which route, and how long they
take to reach us.

A route is declared under ``routes:`` at the top (``red_sea: {name: Red Sea / Suez}``). A
supplier names the routes its goods pass in ``route:`` (a list, or one name alone), or takes
its country's ``route:``; ``route: []`` on a supplier says "none" even where its country has
one. ``shipping_time`` is taken the same way (the supplier's, else its country's, else 0).
A route name may stand in a hit's or a risk-model event's ``countries``: the hit cuts every
supplier on the route (the overlap rule is the one for countries, docs/model.md).

Errors (each with its key path; the loader adds file and line): a route name that is also a
country or a group, a supplier or country that names an undeclared route (with the nearest
name as a hint). A route no supplier passes is a warning: a hit on it cuts nothing.
"""

from __future__ import annotations

from optimizer.scenario.checks import KeyPath, closest, format_path
from optimizer.scenario.errors import Issue, Severity
from optimizer.scenario.groups import group_names
from optimizer.scenario.schema import Scenario, Supplier

Located = list[tuple[KeyPath, Issue]]


def supplier_routes(scenario: Scenario, supplier: Supplier) -> list[str]:
    """The routes a supplier's goods pass: its own ``route``, else its country's, else none."""
    if supplier.route is not None:
        return list(supplier.route)
    country = scenario.countries.get(supplier.country)
    return list(country.route) if country is not None else []


def supplier_shipping_time(scenario: Scenario, supplier: Supplier) -> float:
    """A supplier's shipping time in years: its own, else its country's, else 0."""
    if supplier.shipping_time is not None:
        return supplier.shipping_time
    country = scenario.countries.get(supplier.country)
    if country is not None and country.shipping_time is not None:
        return country.shipping_time
    return 0.0


def route_issues(scenario: Scenario) -> Located:
    """The problems of the ``routes:`` and of every ``route`` list, with their key paths."""
    found: Located = []

    def add(path: KeyPath, message: str, hint: str | None = None, sev: Severity = "error"):
        found.append((path, Issue(None, None, None, format_path(path), message, hint, None, sev)))

    routes = scenario.routes
    groups = set(group_names(scenario))
    for r in routes:
        what = "country" if r in scenario.countries else "group" if r in groups else None
        if what is not None:
            add(
                ("routes", r),
                f"`{r}` is both a route and a {what}: a name in a hit's countries must mean "
                "one thing",
                f"rename the route (for example `{r}_route`)",
            )

    def check_names(names: list[str], path: KeyPath) -> None:
        for i, name in enumerate(names):
            if name in routes:
                continue
            match = closest(name, list(routes))
            declared = ", ".join(routes) if routes else "none are declared"
            add(
                (*path, i),
                f"unknown route `{name}` (routes: {declared})",
                f"did you mean `{match}`?" if match else "declare it under routes: at the top",
            )

    for c, country in scenario.countries.items():
        check_names(country.route, ("countries", c, "route"))
    used: set[str] = set()
    for g, good in scenario.goods.items():
        for s, supplier in good.suppliers.items():
            if supplier.route is not None:
                check_names(supplier.route, ("goods", g, "suppliers", s, "route"))
            used.update(supplier_routes(scenario, supplier))
    for r in routes:
        if r not in used:
            add(
                ("routes", r),
                f"no supplier's goods pass route `{r}`: a hit on it cuts nothing",
                "name it in the `route:` of the suppliers (or countries) whose goods pass it",
                "warning",
            )
    return found
