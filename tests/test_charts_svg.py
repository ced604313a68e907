"""The run report's hand-written SVG charts (``optimizer/results/charts/svg.py`` and ``run.py``):
scale, ticks, labels, and scenario text kept as text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from optimizer.results.charts import svg
from optimizer.results.charts.run import budget_chart, cash_by_good_chart, supply_shares_chart

NS = "{http://www.w3.org/2000/svg}"


def _parse(data: bytes) -> ET.Element:
    """The SVG as an XML tree: it must be well-formed XML whatever the labels hold."""
    return ET.fromstring(data.decode("utf-8"))


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        # 180 / 5 = 36 per tick -> the next nice step is 50: 0, 50, 100, 150 (200 > 180)
        (180.0, [0, 50, 100, 150]),
        # 7 / 5 = 1.4 -> step 2: 0, 2, 4, 6
        (7.0, [0, 2, 4, 6]),
        # 1 / 5 = 0.2 -> step 0.2: 0, 0.2, ..., 1.0 (six ticks, 1.0 itself included)
        (1.0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.0, [0]),
    ],
)
def test_nice_ticks(top, expected):
    assert svg.nice_ticks(top) == pytest.approx(expected)


def test_bar_lengths_are_proportional_to_values():
    """Two bars of 50 and 100 on an axis to 200: the plot spans ``left`` to ``WIDTH - 16``, so
    their rectangles are a quarter and a half of that span wide, both starting at ``left``."""
    data = svg.bar_chart(
        [
            svg.Bar("a", [svg.Segment(0, 50, "#111111")]),
            svg.Bar("b", [svg.Segment(0, 100, "#222222")]),
        ],
        x_max=200,
        x_label="EUR million",
    )
    root = _parse(data)
    rects = [r for r in root.iter(f"{NS}rect") if r.get("fill") in ("#111111", "#222222")]
    assert len(rects) == 2
    left = float(rects[0].get("x"))
    span = (svg.WIDTH - 16) - left
    assert float(rects[0].get("width")) == pytest.approx(span / 4, abs=0.1)
    assert float(rects[1].get("width")) == pytest.approx(span / 2, abs=0.1)
    assert float(rects[1].get("x")) == pytest.approx(left)
    # rows top to bottom in the order given: "a" above "b"
    ys = {t.text: float(t.get("y")) for t in root.iter(f"{NS}text") if t.text in ("a", "b")}
    assert ys["a"] < ys["b"]


def test_scenario_text_never_becomes_markup():
    evil = 'Ga <script>alert("x")</script> & "co"'
    pf = {
        "goods": {
            "g": {
                "label": evil,
                "cash_by_lever": {"stockpile": 2e6},
                "supply_shares": {"before": {"CN": 1.0}, "after": {"CN": 0.5, "domestic": 0.5}},
            }
        },
        "budget": {"lines": {"fund": {"label": evil, "limit": 4e6, "used": 2e6}}},
    }
    for chart in (cash_by_good_chart(pf), budget_chart(pf), supply_shares_chart(pf)):
        raw = chart.decode("utf-8")
        assert "<script" not in raw
        root = _parse(chart)  # well-formed despite <, & and quotes in the label
        assert not any(el.tag.endswith("script") for el in root.iter())
        assert any(t.startswith("Ga <script>") for t in _texts(root))  # shown as text


def test_cash_chart_uses_the_label_and_sums_the_levers():
    """Stock EUR 3.4M + reserve EUR 3.5M = EUR 6.9M at the end of the bar; the good is named
    by its label, and the legend lists only the two levers that spent cash."""
    pf = {
        "goods": {
            "ndpr_oxide": {
                "label": "NdPr oxide",
                "cash_by_lever": {"stockpile": 3.4e6, "reserve": 3.5e6},
            }
        }
    }
    texts = _texts(_parse(cash_by_good_chart(pf)))
    assert "NdPr oxide" in texts and "ndpr oxide" not in texts
    assert "6.9" in texts
    assert "Strategic stock" in texts and "Reserved supplier capacity" in texts
    assert "Domestic capacity" not in texts


def test_long_labels_are_shortened_not_dropped():
    label = "x" * 100
    texts = _texts(_parse(svg.bar_chart([svg.Bar(label, [])], x_max=1, x_label="")))
    assert "x" * (svg.MAX_LABEL - 1) + "\u2026" in texts
