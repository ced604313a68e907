"""Issue 14, item 13: the alias guard of the YAML reader counts only the values that aliases
add, so a large honest file loads and a "billion laughs" file is still refused."""

from __future__ import annotations

import pytest

from optimizer.scenario.errors import ScenarioError
from optimizer.scenario.located_yaml import MAX_VALUES, _parse_document


def test_a_large_file_without_aliases_is_not_refused():
    """MAX_VALUES + 10,000 numbers written out (the issue: about 8,800 disruptions of 20 goods
    were refused "through aliases" in a file with none): read whole."""
    n = MAX_VALUES + 10_000
    text = "values:\n" + "".join(f"  - {i}\n" for i in range(n))
    data, _, _ = _parse_document(text, "big.yaml")
    assert len(data["values"]) == n and data["values"][-1] == n - 1


def test_a_billion_laughs_is_refused_with_the_line():
    """Six levels of ten aliases: 10**6 values added by aliases, more than MAX_VALUES."""
    levels = ["a: &a [" + ", ".join(["1"] * 10) + "]"]
    names = "abcdef"
    for prev, name in zip(names, names[1:]):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(ScenarioError) as info:
        _parse_document("\n".join(levels) + "\n", "laughs.yaml")
    text = info.value.issues[0].format()
    assert f"add more than {MAX_VALUES:,} values" in text and text.startswith("laughs.yaml:")


def test_a_few_aliases_count_only_their_copies():
    """An anchor of 3 values aliased twice adds 2 x (1 list + 3 values) = 8 values: loads."""
    data, _, _ = _parse_document("a: &x [1, 2, 3]\nb: *x\nc: *x\n", "small.yaml")
    assert data == {"a": [1, 2, 3], "b": [1, 2, 3], "c": [1, 2, 3]}
