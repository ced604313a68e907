"""Country groups: declared at the top or by countries, replaced by their member countries
wherever a list of countries stands, and every mistake located (file, line, key, hint)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from optimizer.scenario import ScenarioError, load_scenario

BASE = """\
name: groups
window: {years: 1, period: year}
groups:
  friends: [EU, JP]
  autocracies: [CN, RU]
countries:
  CN: {name: China, governance: 2.1}
  RU: {name: Russia}
  DE: {name: Germany, groups: [EU], governance: 8.6}
  FR: {name: France, groups: [EU]}
  JP: {name: Japan}
goods:
  gallium:
    demand: 10
    damage: 5
    suppliers:
      cn: {country: CN, unit_cost: 1, capacity: 100}
      de: {country: DE, unit_cost: 2, capacity: 100}
risk:
  concentration_cap: {share: 65%, countries: [autocracies]}
  limits:
    crma: {max_share: 65%, per_country: true, exempt: [EU]}
    floor: {min_share: 50%, countries: [friends, CN]}
disruptions:
  ban:
    probability: 10%
    duration: 1 year
    hits: [{countries: [autocracies, FR]}]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def errors(path: Path) -> list:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.issues


def test_group_names_become_their_member_countries(tmp_path: Path) -> None:
    """friends = EU + JP, EU = the countries naming it (DE, FR) -> [DE, FR, JP]; autocracies
    -> [CN, RU]; a country beside a group stays, a repeat is dropped; `all` stays `all`."""
    loaded = load_scenario(write(tmp_path, BASE))
    s = loaded.scenario
    assert s.disruptions["ban"].hits[0].countries == ["CN", "RU", "FR"]
    assert s.risk.concentration_cap.countries == ["CN", "RU"]
    assert s.risk.limits["crma"].exempt == ["DE", "FR"]
    assert s.risk.limits["crma"].countries == "all"
    assert s.risk.limits["floor"].countries == ["DE", "FR", "JP", "CN"]
    assert s.countries["CN"].governance == pytest.approx(2.1)


def test_resolved_yaml_reloads_to_the_same_scenario(tmp_path: Path) -> None:
    """The resolved file keeps `groups:` and holds countries in its lists: loading it again
    expands nothing and gives the same text and digest."""
    first = load_scenario(write(tmp_path, BASE))
    again_path = tmp_path / "resolved.yaml"
    again_path.write_text(first.resolved_yaml, encoding="utf-8")
    again = load_scenario(again_path)
    assert again.resolved_yaml == first.resolved_yaml
    assert again.input_sha256 == first.input_sha256
    assert yaml.safe_load(first.resolved_yaml)["groups"] == {
        "friends": ["EU", "JP"],
        "autocracies": ["CN", "RU"],
    }


def test_group_of_groups_and_set_override(tmp_path: Path) -> None:
    """A group may name groups, also when an override changes a group's members (an override
    changes existing groups only: issue 15 keeps --set from creating entries)."""
    loaded = load_scenario(write(tmp_path, BASE), overrides=["groups.friends=[autocracies, JP]"])
    assert loaded.scenario.groups["friends"] == ["autocracies", "JP"]
    loaded = load_scenario(
        write(tmp_path, BASE),
        overrides=[
            "groups.friends=[autocracies, JP]",
            "disruptions.ban.hits[0].countries=[friends]",
        ],
    )
    assert loaded.scenario.disruptions["ban"].hits[0].countries == ["CN", "RU", "JP"]


def test_name_both_country_and_group(tmp_path: Path) -> None:
    text = edit(BASE, "  autocracies: [CN, RU]\n", "  autocracies: [CN, RU]\n  JP: [DE]\n")
    (issue,) = errors(write(tmp_path, text))
    assert issue.path == "groups.JP"
    assert issue.line == line_of(text, "  JP: [DE]")
    assert "both a country and a group" in issue.message
    assert "rename" in issue.hint


def test_country_naming_a_country_as_its_group(tmp_path: Path) -> None:
    text = edit(BASE, "groups: [EU], governance: 8.6", "groups: [EU, JP], governance: 8.6")
    (issue,) = errors(write(tmp_path, text))
    assert issue.path == "countries.DE.groups[1]"
    assert issue.line == line_of(text, "DE: {name")
    assert "both a country and a group" in issue.message


@pytest.mark.parametrize(
    ("groups", "path", "cycle"),
    [
        ("  loop: [CN, loop]\n", "groups.loop[1]", "loop -> loop"),
        ("  a: [b]\n  b: [CN, a]\n", "groups.b[1]", "a -> b -> a"),
    ],
    ids=["directly", "through-another"],
)
def test_group_containing_itself(tmp_path: Path, groups: str, path: str, cycle: str) -> None:
    text = edit(BASE, "  autocracies: [CN, RU]\n", "  autocracies: [CN, RU]\n" + groups)
    (issue,) = errors(write(tmp_path, text))
    assert issue.path == path
    assert cycle in issue.message and "contains itself" in issue.message
    assert issue.line == line_of(text, groups.splitlines()[-1])
    assert issue.hint


def test_unknown_member_did_you_mean(tmp_path: Path) -> None:
    text = edit(BASE, "friends: [EU, JP]", "friends: [EU, JP, Russia, KR]")
    issues = errors(write(tmp_path, text))
    assert [i.path for i in issues] == ["groups.friends[2]", "groups.friends[3]"]
    assert all(i.line == line_of(text, "friends:") for i in issues)
    assert "neither a country nor a group" in issues[0].message
    assert issues[0].hint == "did you mean `RU`?"  # RU's name is Russia
    assert issues[1].hint == "add it under countries: or groups:"


def test_unknown_name_in_a_list_keeps_its_position_in_the_file(tmp_path: Path) -> None:
    """The list [autocracies, FR, frends] expands to 3 countries before `frends`; the error
    still names the third item as written, and suggests the group."""
    text = edit(
        BASE,
        "hits: [{countries: [autocracies, FR]}]",
        "hits: [{countries: [autocracies, FR, frends]}]",
    )
    (issue,) = errors(write(tmp_path, text))
    assert issue.path == "disruptions.ban.hits[0].countries[2]"
    assert issue.line == line_of(text, "hits: [{")
    assert issue.hint == "did you mean `friends`?"


def test_unknown_name_in_limits(tmp_path: Path) -> None:
    text = edit(BASE, "exempt: [EU]", "exempt: [EUU]")
    (issue,) = errors(write(tmp_path, text))
    assert issue.path == "risk.limits.crma.exempt[0]"
    assert issue.hint == "did you mean `EU`?"


def test_governance_out_of_range(tmp_path: Path) -> None:
    text = edit(BASE, "governance: 2.1", "governance: 12")
    (issue,) = errors(write(tmp_path, text))
    assert issue.path == "countries.CN.governance"
    assert issue.line == line_of(text, "CN: {name")
    assert "<= 10" in issue.message


def test_scenario_without_groups_still_checks_unknown_countries(tmp_path: Path) -> None:
    """No group anywhere: the existing check reports an unknown country in a hit."""
    text = edit(BASE, "groups:\n  friends: [EU, JP]\n  autocracies: [CN, RU]\n", "")
    text = text.replace("groups: [EU], ", "").replace(", groups: [EU]", "")
    text = edit(text, "[autocracies]", "[CN]").replace("exempt: [EU]", "exempt: [DE]")
    text = edit(text, "[friends, CN]", "[JP, CN]")
    text = edit(text, "[autocracies, FR]", "[CN, Frnace]")
    (issue,) = errors(write(tmp_path, text))
    assert issue.path == "disruptions.ban.hits[0].countries[1]"
    assert "unknown country `Frnace`" in issue.message


def test_group_in_a_risk_model_event(tmp_path: Path) -> None:
    """A risk-model event may name a group: its countries are the group's members."""
    text = edit(BASE, "disruptions:\n  ban:\n", "disruptions:\n  ban:\n").replace(
        "disruptions:",
        "risk_model:\n  events:\n    shock: {probability: 10%, countries: "
        "[autocracies, JP], duration: 1 year}\ndisruptions:",
        1,
    )
    text = text[: text.index("disruptions:")] + "disruptions: null\n"
    s = load_scenario(write(tmp_path, text)).scenario
    assert s.risk_model.events["shock"].countries == ["CN", "RU", "JP"]
