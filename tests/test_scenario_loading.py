"""Loading scenario files: quantities, located errors, extends, overrides, round trips."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.scenario import (
    Issue,
    LoadedScenario,
    ScenarioError,
    apply_overrides,
    check_references,
    load_scenario,
    load_scenario_dict,
)

VALID = """\
name: Gallium test
window: {years: 5, period: month}
budget:
  total: 400M
  lines:
    stockpile_fund: {limit: 250M, levers: [stockpile]}
    industry_fund: {limit: 200M, levers: [domestic, reserve], goods: [gallium]}
risk:
  concentration_cap: {share: 65%, countries: [CN, RU]}
  cvar: {alpha: 0.95, weight: 0.5}
countries:
  CN: {name: China}
  RU: {name: Russia}
  JP: {name: Japan}
  DE: {name: Germany}
goods:
  gallium:
    unit: t
    demand: 40
    damage: 4M
    coverage_days: 90
    max_shortfall: 20%
    stockpile:
      initial: 0
      max: 60
      unit_cost: 700k
      storage_cost: 8k
      residual_value: 90%
      max_release: 40
    domestic: {capex: 3M, fixed_cost: 60M, unit_cost: 900k, max: 25, lead_time: 24 months,
               lifetime: 20 years}
    demand_reduction: {max_share: 15%, unit_cost: 2M}
    suppliers:
      china:
        country: CN
        unit_cost: 550k
        capacity: 60
      japan:
        country: JP
        unit_cost: 800k
        capacity: 4
        reserve: {max: 20, fee: 60k, fixed_cost: 2M}
      germany: {country: DE, unit_cost: 850k, capacity: 2, spot_lead_time: 6 months}
disruptions:
  china_export_ban:
    probability: 12%
    start: 12 months
    duration: 24 months
    hits: [{countries: [CN], goods: [gallium], severity: 100%}]
    price_multiplier: 2.5
  russia_and_china:
    probability: 3%
    start: 6 months
    duration: 3 years
    hits:
      - countries: [CN, RU]
        severity: 80%
    demand_multiplier: 1.1
"""


# --- helpers ------------------------------------------------------------------------------------


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edit(text: str, old: str, new: str) -> str:
    """``text`` with the one occurrence of ``old`` replaced."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, fragment: str, nth: int = 0) -> int:
    """1-based line of the ``nth`` line containing ``fragment``."""
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    return lines[nth]


def issues_of(path: Path | str, overrides: tuple[str, ...] = ()) -> list[Issue]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    assert info.value.issues
    return info.value.issues


def only_issue(path: Path | str, overrides: tuple[str, ...] = ()) -> Issue:
    issues = issues_of(path, overrides)
    assert len(issues) == 1, "\n".join(i.format() for i in issues)
    return issues[0]


def scenario_with(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    text = edit(VALID, old, new)
    return write(tmp_path, "gallium.yaml", text), text


# --- the valid example --------------------------------------------------------------------------


def test_valid_scenario_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "gallium.yaml", VALID)
    loaded = load_scenario(path)
    assert isinstance(loaded, LoadedScenario)
    s = loaded.scenario
    assert loaded.source == path
    assert loaded.warnings == []
    assert s.window.periods == 60
    assert s.budget.total == 400e6
    assert s.goods["gallium"].damage == 4e6
    assert s.goods["gallium"].stockpile is not None
    assert s.goods["gallium"].stockpile.residual_value == pytest.approx(0.9)
    assert s.goods["gallium"].domestic is not None
    assert s.goods["gallium"].domestic.lead_time == pytest.approx(2.0)
    assert s.disruptions["china_export_ban"].probability == pytest.approx(0.12)
    assert s.disruptions["russia_and_china"].hits[0].severity == pytest.approx(0.8)
    assert check_references(s) == []


# --- quantities ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "euros"),
    [
        ("2500000", 2.5e6),
        ("2.5e6", 2.5e6),
        ("2_500_000", 2.5e6),
        ("2.5M", 2.5e6),
        ("750k", 750e3),
        ("1.2bn", 1.2e9),
    ],
)
def test_money_forms(tmp_path: Path, written: str, euros: float) -> None:
    path, _ = scenario_with(tmp_path, "damage: 4M", f"damage: {written}")
    assert load_scenario(path).scenario.goods["gallium"].damage == pytest.approx(euros)


def test_money_that_is_not_money(tmp_path: Path) -> None:
    path, text = scenario_with(tmp_path, "damage: 4M", "damage: four million")
    issue = only_issue(path)
    assert (issue.file, issue.line) == (str(path), line_of(text, "damage: four"))
    assert issue.path == "goods.gallium.damage"
    assert "expected an amount of money" in issue.message
    assert "four million" in issue.message
    assert "Value error" not in issue.message


@pytest.mark.parametrize(
    ("written", "share"),
    [("65%", 0.65), ("0.65", 0.65), ("12.5%", 0.125), ("100%", 1.0), ("0", 0.0)],
)
def test_percentages(tmp_path: Path, written: str, share: float) -> None:
    path, _ = scenario_with(tmp_path, "share: 65%", f"share: {written}")
    cap = load_scenario(path).scenario.risk.concentration_cap
    assert cap is not None
    assert cap.share == pytest.approx(share)


def test_share_over_100_percent(tmp_path: Path) -> None:
    path, text = scenario_with(tmp_path, "max_shortfall: 20%", "max_shortfall: 120%")
    issue = only_issue(path)
    assert issue.line == line_of(text, "max_shortfall")
    assert issue.path == "goods.gallium.max_shortfall"
    assert issue.message == "must be <= 100 %, got 120%"
    assert issue.hint is not None and "percentage" in issue.hint


@pytest.mark.parametrize(
    ("written", "years"),
    [
        ("18 months", 1.5),
        ("2 quarters", 0.5),
        ("3 years", 3.0),
        ("6 weeks", 6 / 52),
        ("1 year", 1.0),
        ("90 days", 90 / 365),
    ],
)
def test_durations(tmp_path: Path, written: str, years: float) -> None:
    path, _ = scenario_with(tmp_path, "duration: 3 years", f"duration: {written}")
    loaded = load_scenario(path)
    assert loaded.scenario.disruptions["russia_and_china"].duration == pytest.approx(years)


def test_bare_number_duration_is_an_error(tmp_path: Path) -> None:
    path, text = scenario_with(tmp_path, "duration: 24 months", "duration: 24")
    issue = only_issue(path)
    assert (issue.file, issue.line) == (str(path), line_of(text, "duration: 24"))
    assert issue.path == "disruptions.china_export_ban.duration"
    assert "needs a unit" in issue.message
    assert "24 months" in issue.message


def test_unknown_time_unit(tmp_path: Path) -> None:
    path, _ = scenario_with(tmp_path, "duration: 24 months", "duration: 24 fortnights")
    issue = only_issue(path)
    assert "unknown time unit" in issue.message


# --- keys ---------------------------------------------------------------------------------------


def test_unknown_key_did_you_mean(tmp_path: Path) -> None:
    path, text = scenario_with(tmp_path, "    stockpile:\n", "    stockpil:\n")
    issue = only_issue(path)
    assert issue.file == str(path)
    assert issue.line == line_of(text, "stockpil:")
    assert issue.column == 5
    assert issue.path == "goods.gallium.stockpil"
    assert issue.message == "unknown key `stockpil`"
    assert issue.hint == "did you mean `stockpile`?"
    assert issue.format() == (
        f"{path}:{issue.line}: goods.gallium.stockpil: unknown key "
        "`stockpil` (hint: did you mean `stockpile`?)"
    )


def test_unknown_key_in_a_list_item_and_without_close_match(tmp_path: Path) -> None:
    text = edit(VALID, "        severity: 80%", "        severty: 80%")
    text = edit(text, "  cvar: {alpha: 0.95, weight: 0.5}", "  cvar: {alpha: 0.95, zzz: 0.5}")
    path = write(tmp_path, "s.yaml", text)
    first, second = issues_of(path)
    assert first.path == "risk.cvar.zzz"
    assert first.line == line_of(text, "zzz")
    assert first.hint == "valid keys here: alpha, weight, limit"
    assert second.path == "disruptions.russia_and_china.hits[0].severty"
    assert second.line == line_of(text, "severty")
    assert second.hint == "did you mean `severity`?"


def test_missing_required_key_reports_the_parent_line(tmp_path: Path) -> None:
    path, text = scenario_with(tmp_path, "    demand: 40\n", "")
    issue = only_issue(path)
    assert issue.path == "goods.gallium.demand"
    assert issue.message == "required key missing"
    assert issue.line == line_of(text, "  gallium:")
    assert issue.hint is not None and issue.hint.startswith("add `demand:`")


def test_negative_capacity(tmp_path: Path) -> None:
    path, text = scenario_with(tmp_path, "capacity: 4\n", "capacity: -5\n")
    issue = only_issue(path)
    line = line_of(text, "capacity: -5")
    assert (issue.file, issue.line, issue.column) == (str(path), line, 9)
    assert issue.path == "goods.gallium.suppliers.japan.capacity"
    assert issue.message == "must be >= 0, got -5"
    assert issue.format() == (
        f"{path}:{line}: goods.gallium.suppliers.japan.capacity: must be >= 0, got -5"
    )


def test_wrong_kinds_of_values_are_explained_plainly(tmp_path: Path) -> None:
    text = edit(VALID, "window: {years: 5, period: month}", "window:")
    text = edit(text, "hits: [{countries: [CN], goods: [gallium], severity: 100%}]", "hits: CN")
    text = edit(text, "levers: [stockpile]", "levers: [stokpile]")
    path = write(tmp_path, "s.yaml", text)
    issues = issues_of(path)
    messages = {i.path: i for i in issues}
    assert (
        messages["window"].message == "expected a section of keys, got nothing (the value is empty)"
    )
    assert messages["disruptions.china_export_ban.hits"].hint == "write [CN]"
    lever = messages["budget.lines.stockpile_fund.levers[0]"]
    assert lever.hint == "did you mean `stockpile`?"
    for issue in issues:
        assert "Input should" not in issue.message
        assert "Value error" not in issue.message


def test_duplicate_key(tmp_path: Path) -> None:
    path, text = scenario_with(tmp_path, "    demand: 40\n", "    demand: 40\n    demand: 50\n")
    issue = only_issue(path)
    assert issue.line == line_of(text, "demand: 50")
    assert issue.path == "goods.gallium.demand"
    assert f"already set on line {line_of(text, 'demand: 40')}" in issue.message


def test_norway_is_a_country_not_false(tmp_path: Path) -> None:
    text = edit(VALID, "  DE: {name: Germany}", "  DE: {name: Germany}\n  NO: {name: Norway}")
    text = edit(text, "countries: [CN, RU]}", "countries: [CN, RU, NO]}")
    loaded = load_scenario(write(tmp_path, "s.yaml", text))
    assert "NO" in loaded.scenario.countries
    cap = loaded.scenario.risk.concentration_cap
    assert cap is not None and cap.countries == ["CN", "RU", "NO"]


def test_merge_keys_are_supported(tmp_path: Path) -> None:
    text = edit(
        VALID, "      china:\n        country: CN\n", "      china: &base\n        country: CN\n"
    )
    text = edit(
        text,
        "      germany: {country: DE, unit_cost: 850k, capacity: 2, spot_lead_time: 6 months}",
        "      germany: {<<: *base, country: DE}",
    )
    loaded = load_scenario(write(tmp_path, "s.yaml", text))
    germany = loaded.scenario.goods["gallium"].suppliers["germany"]
    assert (germany.country, germany.capacity, germany.unit_cost) == ("DE", 60, 550e3)


# --- cross-checks -------------------------------------------------------------------------------


def test_probabilities_over_100_percent(tmp_path: Path) -> None:
    text = edit(VALID, "probability: 12%", "probability: 80%")
    text = edit(text, "probability: 3%", "probability: 35%")
    path = write(tmp_path, "s.yaml", text)
    issue = only_issue(path)
    assert (issue.file, issue.line) == (str(path), line_of(text, "disruptions:"))
    assert issue.path == "disruptions"
    assert issue.message.startswith("probabilities add up to 115 %, more than 100 %")
    assert "no-disruption" in issue.message


def test_unknown_country(tmp_path: Path) -> None:
    path, text = scenario_with(tmp_path, "country: JP\n", "country: JPN\n")
    issue = only_issue(path)
    assert issue.path == "goods.gallium.suppliers.japan.country"
    assert issue.line == line_of(text, "country: JPN")
    assert "unknown country `JPN`" in issue.message
    assert issue.hint == "did you mean `JP`?"

    path, _ = scenario_with(tmp_path, "country: JP\n", "country: ZZ\n")
    assert only_issue(path).hint == "add it under countries:"


def test_unknown_good_in_a_hit_and_in_a_budget_line(tmp_path: Path) -> None:
    text = edit(VALID, "goods: [gallium], severity: 100%", "goods: [galium], severity: 100%")
    text = edit(
        text,
        "levers: [domestic, reserve], goods: [gallium]",
        "levers: [domestic, reserve], goods: [copper]",
    )
    path = write(tmp_path, "s.yaml", text)
    budget, hit = issues_of(path)
    assert budget.path == "budget.lines.industry_fund.goods[0]"
    assert budget.line == line_of(text, "copper")
    assert budget.message == "unknown good `copper`"
    assert budget.hint == "the goods are: gallium"
    assert hit.path == "disruptions.china_export_ban.hits[0].goods[0]"
    assert hit.line == line_of(text, "galium]")
    assert hit.hint == "did you mean `gallium`?"


def test_unknown_country_in_concentration_cap_and_hit(tmp_path: Path) -> None:
    text = edit(VALID, "countries: [CN, RU]}", "countries: [CN, RUS]}")
    text = edit(text, "      - countries: [CN, RU]", "      - countries: [CN, XX]")
    path = write(tmp_path, "s.yaml", text)
    cap, hit = issues_of(path)
    assert cap.path == "risk.concentration_cap.countries[1]"
    assert cap.hint == "did you mean `RU`?"
    assert hit.path == "disruptions.russia_and_china.hits[0].countries[1]"
    assert hit.line == line_of(text, "[CN, XX]")


def test_coverage_checks(tmp_path: Path) -> None:
    # 90 days of 400 t a year = 98.6 t, more than max 60; costs 69M, more than a 50M budget
    text = edit(VALID, "demand: 40", "demand: 400")
    text = edit(text, "total: 400M", "total: 50M")
    text = edit(text, "capacity: 60", "capacity: 600")
    path = write(tmp_path, "s.yaml", text)
    issues = issues_of(path)
    assert [i.path for i in issues] == ["goods.gallium.coverage_days"] * 2
    coverage = issues
    assert all(i.line == line_of(text, "coverage_days") for i in coverage)
    assert any("more than stockpile.max (60 t)" in i.message for i in coverage)
    cost = next(i for i in coverage if "budget.total" in i.message)
    assert "69,041,096 euros" in cost.message and "50,000,000 euros" in cost.message


def test_coverage_without_stockpile_and_module_too_large(tmp_path: Path) -> None:
    text = VALID
    start = text.index("    stockpile:\n")
    end = text.index("    domestic:")
    text = text[:start] + text[end:]
    text = edit(text, "max: 25, lead_time", "max: 25, module: 30, lead_time")
    path = write(tmp_path, "s.yaml", text)
    coverage, module = issues_of(path)
    assert coverage.path == "goods.gallium.coverage_days"
    assert "no stockpile section" in coverage.message
    assert module.path == "goods.gallium.domestic.module"
    assert module.line == line_of(text, "module: 30")
    assert "larger than domestic.max" in module.message


def test_warnings_do_not_stop_the_load(tmp_path: Path) -> None:
    text = edit(VALID, "    start: 6 months", "    start: 6 years")
    text = text.replace(
        "goods:\n  gallium:",
        "goods:\n  indium: {demand: 1, damage: 1M}\n"
        "  germanium:\n    demand: 10\n    damage: 1M\n    suppliers:\n"
        "      x: {country: CN, unit_cost: 1, capacity: 2}\n  gallium:",
        1,
    )
    path = write(tmp_path, "s.yaml", text)
    loaded = load_scenario(path)
    by_path = {w.path: w for w in loaded.warnings}
    assert all(w.severity == "warning" for w in loaded.warnings)
    late = by_path["disruptions.russia_and_china.start"]
    assert late.line == line_of(text, "start: 6 years")
    assert "never happens in the window" in late.message
    assert "whole demand is a shortfall" in by_path["goods.indium"].message
    short = by_path["goods.germanium.demand"]
    assert "will show a shortfall every period" in short.message
    assert short.format().startswith(
        f"{path}:{line_of(text, 'demand: 10')}: goods.germanium.demand: warning: "
    )
    assert len(loaded.warnings) == 3


# --- malformed files ----------------------------------------------------------------------------


def test_malformed_yaml_has_line_and_column(tmp_path: Path) -> None:
    path, text = scenario_with(tmp_path, "    unit: t\n", "    unit: t\n     demand: 40\n")
    issue = only_issue(path)
    assert issue.file == str(path)
    assert issue.line == line_of(text, "     demand: 40")
    assert issue.column == 12
    assert issue.message == "mapping values are not allowed here"
    assert issue.hint is not None and "indentation" in issue.hint


def test_unclosed_bracket_and_tabs(tmp_path: Path) -> None:
    path, text = scenario_with(tmp_path, "levers: [stockpile]}", "levers: [stockpile}")
    issue = only_issue(path)
    assert issue.line == line_of(text, "levers: [stockpile}")
    assert issue.hint is not None and "not closed" in issue.hint
    path = write(tmp_path, "tabs.yaml", "window:\n\tyears: 5\n")
    issue = only_issue(path)
    assert (issue.line, issue.column) == (2, 1)
    assert issue.hint == "indent with spaces, not tabs"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- a\n- b\n", "the top level must be a mapping"),
        ("just text\n", "the top level must be a mapping"),
    ],
)
def test_empty_or_not_a_mapping(tmp_path: Path, text: str, message: str) -> None:
    issue = only_issue(write(tmp_path, "s.yaml", text))
    assert issue.message.startswith(message)
    assert issue.path == ""


def test_missing_file(tmp_path: Path) -> None:
    issue = only_issue(tmp_path / "nothere.yaml")
    assert issue.message == "the file does not exist"


# --- extends ------------------------------------------------------------------------------------


def test_extends_deep_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "common/base.yaml", VALID)
    child = """\
extends: ../common/base.yaml
name: Child scenario
goods:
  gallium:
    demand: 50
    suppliers:
      japan: {capacity: 8}
disruptions:
  russia_and_china:
    hits: [{countries: [RU], severity: 50%}]
"""
    write(tmp_path, "child/child.yaml", child)
    monkeypatch.chdir(tmp_path)
    s = load_scenario("child/child.yaml").scenario
    assert s.name == "Child scenario"
    assert s.goods["gallium"].demand == 50
    japan = s.goods["gallium"].suppliers["japan"]
    assert (japan.capacity, japan.country, japan.unit_cost) == (8, "JP", 800e3)
    assert japan.reserve is not None and japan.reserve.max == 20
    assert set(s.goods["gallium"].suppliers) == {"china", "japan", "germany"}
    hits = s.disruptions["russia_and_china"].hits
    assert [h.countries for h in hits] == [["RU"]]  # lists replaced whole
    assert s.disruptions["russia_and_china"].probability == pytest.approx(0.03)


def test_extends_reports_inherited_keys_in_the_base_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = edit(VALID, "capacity: 60", "capacity: -60")
    write(tmp_path, "common/base.yaml", base)
    child = "extends: ../common/base.yaml\ngoods:\n  gallium:\n    demand: -1\n"
    write(tmp_path, "child/child.yaml", child)
    monkeypatch.chdir(tmp_path)
    own, inherited = issues_of("child/child.yaml")
    assert (own.file, own.line, own.path) == ("child/child.yaml", 4, "goods.gallium.demand")
    assert inherited.file == str(Path("common/base.yaml"))
    assert inherited.line == line_of(base, "capacity: -60")
    assert inherited.path == "goods.gallium.suppliers.china.capacity"
    assert inherited.message == "must be >= 0, got -60"


def test_extends_chain_of_three(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID)
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: B\nbudget: {total: 300M}\n")
    write(tmp_path, "sub/c.yaml", "extends: ../b.yaml\nname: C\n")
    s = load_scenario(tmp_path / "sub" / "c.yaml").scenario
    assert s.name == "C"
    assert s.budget.total == 300e6
    assert "stockpile_fund" in s.budget.lines


def test_extends_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a.yaml", "name: A\nextends: b.yaml\n")
    write(tmp_path, "b.yaml", "# b\nextends: a.yaml\nname: B\n")
    monkeypatch.chdir(tmp_path)
    issue = only_issue("a.yaml")
    assert (issue.file, issue.line, issue.path) == ("b.yaml", 2, "extends")
    assert "a.yaml -> b.yaml -> a.yaml" in issue.message


def test_extends_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a.yaml", "extends: ./a.yaml\n")
    monkeypatch.chdir(tmp_path)
    assert "cycle" in only_issue("a.yaml").message


def test_missing_extends_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "s/child.yaml", "name: x\n\nextends: nothere.yaml\n")
    monkeypatch.chdir(tmp_path)
    issue = only_issue("s/child.yaml")
    assert (issue.file, issue.line, issue.path) == ("s/child.yaml", 3, "extends")
    assert "`nothere.yaml`, does not exist" in issue.message
    assert str(Path("s/nothere.yaml")) in issue.message


def test_malformed_base_file_is_named(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", "window: {years: 5\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    issue = only_issue(child)
    assert issue.file == str(base)
    assert issue.line == 1  # the line whose { is never closed (issue 15, item 13)


# --- overrides ----------------------------------------------------------------------------------


def test_set_overrides_are_applied(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", VALID)
    loaded = load_scenario(
        path,
        [
            "budget.total=250M",
            "risk.cvar.limit=800M",
            "disruptions.russia_and_china.hits.0.severity=50%",
            "disruptions.china_export_ban.hits[0].countries=[RU]",
            "goods.gallium.domestic.module=5",
        ],
    )
    s = loaded.scenario
    assert s.budget.total == 250e6
    assert s.risk.cvar is not None and s.risk.cvar.limit == 800e6
    assert s.disruptions["russia_and_china"].hits[0].severity == 0.5
    assert s.disruptions["china_export_ban"].hits[0].countries == ["RU"]
    assert s.goods["gallium"].domestic is not None and s.goods["gallium"].domestic.module == 5
    assert loaded.resolved["budget"]["total"] == 250e6


def test_set_override_error_carries_its_origin(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", VALID)
    issue = only_issue(path, ("goods.gallium.suppliers.japan.capacity=-5",))
    assert issue.line is None
    assert issue.path == "goods.gallium.suppliers.japan.capacity"
    assert issue.message == "must be >= 0, got -5"
    assert issue.origin == "set by --set goods.gallium.suppliers.japan.capacity=-5"
    assert issue.format().endswith("[set by --set goods.gallium.suppliers.japan.capacity=-5]")

    issue = only_issue(path, ("goods.gallium.stockpil.max=3",))
    assert issue.hint == "did you mean `stockpile`?"
    assert issue.origin == "set by --set goods.gallium.stockpil.max=3"

    issue = only_issue(path, ("budget.total=abc",))
    assert issue.origin == "set by --set budget.total=abc"
    assert "expected an amount of money" in issue.message


@pytest.mark.parametrize(
    "override",
    ["budget.total", "=5", " =5", "budget..total=5", "budget.total=[1,", "window.years.x=1"],
)
def test_malformed_overrides(tmp_path: Path, override: str) -> None:
    path = write(tmp_path, "s.yaml", VALID)
    issue = only_issue(path, (override,))
    assert issue.origin == f"set by --set {override}"
    assert issue.line is None


def test_apply_overrides() -> None:
    data = {"budget": {"total": 1}, "risk": None, "hits": [{"a": 1}]}
    out = apply_overrides(
        data,
        ["budget.total=250M", "risk.cvar.limit=5", "new.deep.key=x", "hits.0.a=2", "budget.lines="],
    )
    assert out == {
        "budget": {"total": "250M", "lines": None},
        "risk": {"cvar": {"limit": 5}},
        "hits": [{"a": 2}],
        "new": {"deep": {"key": "x"}},
    }
    assert data == {"budget": {"total": 1}, "risk": None, "hits": [{"a": 1}]}
    with pytest.raises(ScenarioError) as info:
        apply_overrides(data, ["nothing", "hits.3.a=1"])
    assert len(info.value.issues) == 2
    assert "no item `3`" in info.value.issues[1].message


# --- dicts, round trips, several errors ---------------------------------------------------------


def test_load_scenario_dict() -> None:
    data = yaml.safe_load(VALID)
    loaded = load_scenario_dict(data, name="variant", overrides=["budget.total=1bn"])
    assert loaded.scenario.budget.total == 1e9
    data["goods"]["gallium"]["demand"] = -1
    with pytest.raises(ScenarioError) as info:
        load_scenario_dict(data, name="variant")
    (issue,) = info.value.issues
    assert (issue.file, issue.line, issue.path) == ("variant", None, "goods.gallium.demand")


def test_resolved_yaml_round_trip_and_stable_sha(tmp_path: Path) -> None:
    text = edit(VALID, "duration: 3 years", "duration: 90 days")
    text = edit(text, "start: 6 months", "start: 0.1 years")
    path = write(tmp_path, "s.yaml", text)
    first = load_scenario(path, ["budget.total=1.2bn"])
    assert first.input_sha256 == hashlib.sha256(first.resolved_yaml.encode()).hexdigest()
    assert first.resolved == first.scenario.model_dump(mode="json")
    again = load_scenario(path, ["budget.total=1.2bn"])
    assert again.input_sha256 == first.input_sha256
    resolved = write(tmp_path, "resolved.yaml", first.resolved_yaml)
    reloaded = load_scenario(resolved)
    assert reloaded.scenario == first.scenario
    assert reloaded.resolved_yaml == first.resolved_yaml
    assert reloaded.input_sha256 == first.input_sha256
    assert load_scenario(path).input_sha256 != first.input_sha256


def test_several_errors_reported_at_once(tmp_path: Path) -> None:
    text = edit(VALID, "capacity: 4\n", "capacity: -5\n")
    text = edit(text, "    stockpile:\n", "    stockpil:\n")
    text = edit(text, "window: {years: 5, period: month}", "window: {years: 5, period: mnth}")
    text = edit(text, "duration: 24 months", "duration: 24")
    path = write(tmp_path, "s.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    issues = info.value.issues
    assert [i.path for i in issues] == [
        "window.period",
        "goods.gallium.stockpil",
        "goods.gallium.suppliers.japan.capacity",
        "disruptions.china_export_ban.duration",
    ]
    assert [i.line for i in issues] == sorted(i.line or 0 for i in issues)
    assert str(info.value).splitlines() == [i.format() for i in issues]


# --- property: any corruption gives a ScenarioError, never a traceback -------------------------


def _paths(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    out: list[tuple[str | int, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out.append(prefix + (key,))
            out.extend(_paths(item, prefix + (key,)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.append(prefix + (i,))
            out.extend(_paths(item, prefix + (i,)))
    return out


BASE_DATA = yaml.safe_load(VALID)
ALL_PATHS = _paths(BASE_DATA)
GARBAGE_CHARS = st.sampled_from(
    list(":{}[]&*!|>'\"%@`#-?,\t\n =~<.") + ["<<", "---", "..."]
) | st.characters(codec="utf-8")
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=8), SCALARS, max_size=3),
)


@st.composite
def corrupted_files(draw: st.DrawFn) -> tuple[str, list[str]]:
    data = copy.deepcopy(BASE_DATA)
    kind = draw(st.sampled_from(["delete", "replace", "rename", "garbage", "override"]))
    path = draw(st.sampled_from(ALL_PATHS))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    overrides: list[str] = []
    if kind == "delete":
        del parent[last]
    elif kind == "replace":
        parent[last] = draw(VALUES)
    elif kind == "rename" and isinstance(parent, dict):
        parent[draw(st.text(max_size=12))] = parent.pop(last)
    elif kind == "override":
        key = ".".join(str(p) for p in path)
        value = draw(
            st.text(max_size=20)
            | st.sampled_from(["-5", "250M", "[1, 2]", "{a: 1}", "", "120%", "3 years"])
        )
        overrides.append(
            draw(st.sampled_from([f"{key}={value}", key, f"{key}.x={value}", f"={value}"]))
        )
    if kind == "garbage":
        lines = VALID.splitlines(keepends=True)
        at = draw(st.integers(0, len(lines)))
        garbage = "".join(draw(st.lists(GARBAGE_CHARS, min_size=1, max_size=12)))
        column = draw(st.integers(0, 10))
        if at < len(lines):
            line = lines[at]
            lines[at] = line[:column] + garbage + line[column:]
        else:
            lines.append(garbage)
        text = "".join(lines)
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return text, overrides


@pytest.fixture(scope="module")
def corruption_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corrupted")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=corrupted_files())
def test_corruptions_only_raise_scenario_error(
    corruption_dir: Path, case: tuple[str, list[str]]
) -> None:
    text, overrides = case
    path = corruption_dir / "corrupted.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        loaded = load_scenario(path, overrides)
    except ScenarioError as exc:
        assert exc.issues
        for issue in exc.issues:
            assert issue.severity == "error"
            assert issue.message
            assert "Input should" not in issue.message
            assert issue.file in (str(path), None)
            assert issue.format()
        assert str(exc)
    else:
        assert isinstance(loaded, LoadedScenario)
        # whatever loads, its resolved form loads back to the same scenario
        again = corruption_dir / "again.yaml"
        again.write_text(loaded.resolved_yaml, encoding="utf-8")
        assert load_scenario(again).scenario == loaded.scenario


def test_fast_and_python_yaml_parsers_give_the_same_issues(tmp_path: Path, monkeypatch) -> None:
    """The loader composes with libyaml's C parser when PyYAML has it, and falls back to the
    Python parser for a file the C one refuses: a mistake's file, line, column, message and
    hint, and a valid file's resolved YAML (hence its sha256), are the same either way."""
    from optimizer.scenario import located_yaml as loader

    texts = {
        "valid.yaml": VALID,
        "semantic.yaml": edit(VALID, "capacity: 4\n", "capacity: -5\n"),
        "indent.yaml": edit(VALID, "    unit: t\n", "    unit: t\n     demand: 40\n"),
        "bracket.yaml": edit(VALID, "levers: [stockpile]}", "levers: [stockpile}"),
        "tabs.yaml": "window:\n\tyears: 5\n",
    }

    def outcome(path: Path):
        try:
            return load_scenario(path).resolved_yaml
        except ScenarioError as exc:
            return [(i.file, i.line, i.column, i.path, i.message, i.hint) for i in exc.issues]

    paths = {name: write(tmp_path, name, text) for name, text in texts.items()}
    fast = {name: outcome(p) for name, p in paths.items()}
    monkeypatch.setattr(loader, "FAST_LOADER", yaml.SafeLoader)
    monkeypatch.setattr(loader, "FAST_DUMPER", yaml.SafeDumper)
    python = {name: outcome(p) for name, p in paths.items()}
    assert fast == python
    assert isinstance(fast["valid.yaml"], str)
    assert all(isinstance(fast[name], list) for name in texts if name != "valid.yaml")
