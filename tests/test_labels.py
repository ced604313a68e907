"""Display labels (issue 15, item 7): a good's and a supplier's ``label:`` is what reports and
the terminal show; without one, the key itself (never a title-cased guess such as "Ndpr
oxide"). The terminal folds, never truncates, a name, and every quantity carries its unit."""

from __future__ import annotations

import copy

from rich.console import Console
from test_sweep import DIRECT, frontier_case

from optimizer.api import run
from optimizer.cli.run import print_summary
from optimizer.results.report import render_report


def labelled(label: bool) -> dict:
    """``frontier_case`` with the good renamed ``ndpr_oxide`` (unit t), its budget 150: 30 t
    a year reserved with jp; labels "NdPr oxide" and "JOGMEC (Japan)" when ``label``."""
    data = frontier_case(budget={"total": 150})
    good = data["goods"].pop("gallium")
    good["unit"] = "t"
    if label:
        good["label"] = "NdPr oxide"
        good["suppliers"]["jp"]["label"] = "JOGMEC (Japan)"
    data["goods"]["ndpr_oxide"] = good
    return copy.deepcopy(data)


def test_labels_replace_keys_in_the_report_and_the_terminal():
    res = run(labelled(True), DIRECT)
    pf = res.portfolio
    assert pf["goods"]["ndpr_oxide"]["label"] == "NdPr oxide"
    assert pf["goods"]["ndpr_oxide"]["supplier_labels"]["jp"] == "JOGMEC (Japan)"
    html = render_report(pf, res.loaded.resolved)
    assert "NdPr oxide" in html and "Ndpr oxide" not in html
    assert "JOGMEC (Japan)" in html
    console = Console(record=True, width=220)
    print_summary(pf, console)
    text = console.export_text()
    assert "NdPr oxide" in text
    assert "JOGMEC (Japan) 30 t/yr" in text  # the reserve with its unit per year
    assert "over the window" in text


def test_without_a_label_the_key_is_shown_whole():
    res = run(labelled(False), DIRECT)
    html = render_report(res.portfolio, res.loaded.resolved)
    assert "ndpr_oxide" in html and "Ndpr oxide" not in html
    console = Console(record=True, width=60)  # narrow: the name must fold, not be cut
    print_summary(res.portfolio, console)
    assert "ndpr_oxide" in console.export_text()


def test_labels_are_text_in_the_page_its_charts_and_the_terminal():
    """A label is user text: markup in it is shown, never interpreted, in the report, in the
    SVG charts embedded in it, and in the terminal (rich's ``[bold]`` markup too)."""
    import base64
    import re

    data = labelled(True)
    data["goods"]["ndpr_oxide"]["label"] = '<b>Nd</b>Pr & "oxide" [bold]x[/bold]'
    data["goods"]["ndpr_oxide"]["suppliers"]["jp"]["label"] = "<i>JOGMEC</i>"
    res = run(data, DIRECT)
    html = render_report(res.portfolio, res.loaded.resolved)
    assert "<b>Nd</b>" not in html and "<i>JOGMEC</i>" not in html
    assert "&lt;b&gt;Nd&lt;/b&gt;Pr &amp; &quot;oxide&quot;" in html
    assert "&lt;i&gt;JOGMEC&lt;/i&gt;" in html
    charts = [
        base64.b64decode(m).decode("utf-8")
        for m in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    ]
    assert charts and any("&lt;b&gt;Nd&lt;/b&gt;Pr" in c for c in charts)
    assert not any("<b>" in c for c in charts)
    console = Console(record=True, width=220)
    print_summary(res.portfolio, console)
    text = console.export_text()
    assert "[bold]x[/bold]" in text and "<b>Nd</b>Pr" in text  # shown as written
