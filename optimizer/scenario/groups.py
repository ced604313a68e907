"""Country groups: who belongs to which group, and group names replaced by their countries.

A group is declared under ``groups:`` at the top (``friends: [EU, NO, JP]``, a member may be a
country or another group) and/or by countries that name it in their own ``groups:`` list
(``DE: {groups: [EU]}``). Wherever the format holds a list of countries (a hit's
``countries``, a risk-model event's, the concentration cap's, a limit's ``countries`` and
``exempt``), a group name
stands for its member countries: :func:`resolve_groups` replaces it when the scenario is loaded
(after ``extends:`` and ``--set``), so the later stages see countries only (and, in hits and
risk-model events, route names, which stay as written: ``routes.py``). The resolved
scenario keeps ``groups:`` and every country's ``groups``; its lists hold countries, so
loading it again changes nothing.

Errors (each with its key path; the loader adds file and line): a name that is both a country
and a group, a group that contains itself (directly or through other groups), a member that is
neither a country nor a group (with the nearest name as a hint).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from optimizer.scenario.checks import HIT_SECTIONS, KeyPath, closest, format_path, route_not_here
from optimizer.scenario.errors import Issue, Severity
from optimizer.scenario.schema import Scenario

Located = list[tuple[KeyPath, Issue]]


def group_members(scenario: Scenario) -> dict[str, list[tuple[str, KeyPath]]]:
    """Each group's direct members (countries or groups), with the key path that names each:
    ``groups.<g>[i]`` for a member listed at the top, ``countries.<c>.groups[i]`` for a country
    that names the group itself. Groups in order of first mention."""
    members: dict[str, list[tuple[str, KeyPath]]] = {}
    for g, listed in scenario.groups.items():
        members.setdefault(g, []).extend((m, ("groups", g, i)) for i, m in enumerate(listed))
    for c, country in scenario.countries.items():
        for i, g in enumerate(country.groups):
            members.setdefault(g, []).append((c, ("countries", c, "groups", i)))
    return members


def group_names(scenario: Scenario) -> list[str]:
    """Every group of the scenario: declared at the top or named by a country."""
    return list(group_members(scenario))


def resolve_groups(scenario: Scenario) -> tuple[Scenario, Located]:
    """The scenario with every group name in a list of countries replaced by its member
    countries (first mention first, no repeats), and the issues found in the groups.

    A group with errors still expands, to the members that are sound (an unknown member or a
    member leading back to the group is left out), so that the later checks do not report the
    same name again.
    """
    members = group_members(scenario)
    if not members:
        return scenario, []
    countries = scenario.countries
    found: Located = []

    def add(path: KeyPath, message: str, hint: str | None = None, sev: Severity = "error"):
        found.append((path, Issue(None, None, None, format_path(path), message, hint, None, sev)))

    for g in members:
        if g in countries:
            where: KeyPath = ("groups", g) if g in scenario.groups else members[g][0][1]
            add(
                where,
                f"`{g}` is both a country and a group: a name in a list of countries must mean "
                "one thing",
                f"rename the group (for example `{g}_group`) or the country",
            )
    names = [*countries, *members]
    by_name = {c.name.lower(): key for key, c in countries.items() if c.name}

    def hint_for(name: str, routes: Sequence[str] = ()) -> str:
        match = by_name.get(name.lower()) or closest(name, [*names, *routes])
        return f"did you mean `{match}`?" if match else "add it under countries: or groups:"

    for g, listed in members.items():
        for m, path in listed:
            if m not in countries and m not in members:
                hint = hint_for(m)
                add(path, f"`{m}` in group `{g}` is neither a country nor a group", hint)

    expanded: dict[str, list[str]] = {}

    def expand(g: str, trail: tuple[str, ...]) -> list[str]:
        if g in expanded:
            return expanded[g]
        out: list[str] = []
        for m, path in members[g]:
            if m in trail or m == g:
                cycle = " -> ".join([*trail[trail.index(m) :], g, m] if m in trail else [g, m])
                add(
                    path,
                    f"group `{g}` contains itself: {cycle}",
                    f"remove `{m}` from `{g}` (a group may name other groups, never one that "
                    "leads back to it)",
                )
                continue
            if m in countries and m not in members:
                out.append(m)
            elif m in members:
                out.extend(expand(m, (*trail, g)))
        expanded[g] = list(dict.fromkeys(out))
        return expanded[g]

    for g in members:
        expand(g, ())
    for g, listed in members.items():
        if not expanded[g] and g not in countries and not found_for(found, g):
            add(
                ("groups", g) if g in scenario.groups else listed[0][1] if listed else ("groups",),
                f"group `{g}` has no member countries: where it stands, it stands for none",
                "list its countries, or remove it",
                "warning",
            )

    listed = ", ".join(countries) if countries else "none are listed"
    routes = scenario.routes

    def countries_of(names: Sequence[str], path: KeyPath) -> list[str]:
        out: list[str] = []
        for i, n in enumerate(names):
            if n in countries:
                out.append(n)
            elif n in routes and n not in members and path[0] in HIT_SECTIONS:
                out.append(n)  # a route stays a route: the hit cuts the suppliers on it
            elif n in routes and n not in members:
                add((*path, i), *route_not_here(n))
            elif n in expanded:
                out.extend(expanded[n])
            else:  # reported here, where the position in the list is the one in the file
                hit = path[0] in HIT_SECTIONS
                what = "country, group or route" if hit else "country or group"
                add(
                    (*path, i),
                    f"unknown {what} `{n}` (countries: {listed})",
                    hint_for(n, list(routes) if hit else ()),
                )
        return list(dict.fromkeys(out))

    return _replace_lists(scenario, countries_of), found


def found_for(found: Located, group: str) -> bool:
    """Whether an issue already names ``group`` (so no second warning about it)."""
    return any(f"`{group}`" in issue.message for _, issue in found)


def _replace_lists(
    scenario: Scenario, fn: Callable[[Sequence[str], KeyPath], list[str]]
) -> Scenario:
    """A copy of ``scenario`` with ``fn(list, key path)`` applied to every list of countries."""
    update: dict = {}
    if scenario.disruptions:
        update["disruptions"] = {
            name: d.model_copy(
                update={
                    "hits": [
                        h.model_copy(
                            update={
                                "countries": fn(
                                    h.countries, ("disruptions", name, "hits", i, "countries")
                                )
                            }
                        )
                        for i, h in enumerate(d.hits)
                    ]
                }
            )
            for name, d in scenario.disruptions.items()
        }
    rm = scenario.risk_model
    if rm is not None and rm.events:
        events = {
            name: e.model_copy(
                update={"countries": fn(e.countries, ("risk_model", "events", name, "countries"))}
            )
            for name, e in rm.events.items()
        }
        update["risk_model"] = rm.model_copy(update={"events": events})
    risk_update: dict = {}
    cap = scenario.risk.concentration_cap
    if cap is not None and cap.countries is not None:
        risk_update["concentration_cap"] = cap.model_copy(
            update={"countries": fn(cap.countries, ("risk", "concentration_cap", "countries"))}
        )
    if scenario.risk.limits:
        risk_update["limits"] = {
            name: limit.model_copy(
                update={
                    "countries": limit.countries
                    if limit.countries == "all"
                    else fn(limit.countries, ("risk", "limits", name, "countries")),
                    "exempt": fn(limit.exempt, ("risk", "limits", name, "exempt")),
                }
            )
            for name, limit in scenario.risk.limits.items()
        }
    if risk_update:
        update["risk"] = scenario.risk.model_copy(update=risk_update)
    return scenario.model_copy(update=update) if update else scenario
