"""``report.html`` and ``portfolio.xlsx``: rendered in a real browser, figures equal to
``portfolio.json``.

The browser tests drive Debian's Chromium headless (``/usr/bin/chromium``); they are skipped with
the reason when it is not installed (CI installs it). The page is checked three ways: the DOM
after rendering (``--dump-dom``) with a small script injected into a copy of the page that
records whether each image loaded; a screenshot that must show a drawn page; and every figure
carrying ``data-key`` must equal the value at that path in ``portfolio.json``.
"""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from optimizer.api import run
from optimizer.results import dumps_json
from optimizer.results.excel import write_portfolio_xlsx
from optimizer.results.report import fmt_money, fmt_qty, render_report, write_report

CHROMIUM = Path("/usr/bin/chromium")
REL = 1e-9

#: A small scenario whose name and description try to inject markup: the page must escape them.
SMALL = {
    "name": "Gallium <script>alert('x')</script> & germanium test",
    "description": "Check <b>escaping</b> & \"quotes\"; figures are illustrative.",
    "window": {"years": 3, "period": "quarter"},
    "budget": {
        "total": "60M",
        "lines": {"stockpile_fund": {"limit": "40M", "levers": ["stockpile"]}},
    },
    "risk": {"cvar": {"alpha": "90%", "weight": 0.5}},
    "countries": {"CN": {"name": "China"}, "JP": {"name": "Japan <JP>"}, "DE": {"name": "Germany"}},
    "goods": {
        "gallium": {
            "unit": "t",
            "demand": 40,
            "damage": "4M",
            "stockpile": {
                "max": 60, "unit_cost": "700k", "storage_cost": "8k", "residual_value": "90%",
            },
            "domestic": {"capex": "3M", "unit_cost": "900k", "max": 10, "lead_time": "6 months"},
            "suppliers": {
                "china": {"country": "CN", "unit_cost": "550k", "capacity": 45},
                "japan": {"country": "JP", "unit_cost": "800k", "capacity": 4,
                          "reserve": {"max": 20, "fee": "60k"}},
            },
        },
        "germanium": {
            "unit": "t",
            "demand": 30,
            "damage": "10M",
            "demand_reduction": {"max_share": "10%", "unit_cost": "2M"},
            "stockpile": {"max": 30, "unit_cost": "1.2M", "storage_cost": "10k"},
            "suppliers": {
                "china": {"country": "CN", "unit_cost": "1.1M", "capacity": 20},
                "germany": {"country": "DE", "unit_cost": "1.3M", "capacity": 12,
                            "reserve": {"max": 10, "fee": "100k"}},
            },
        },
    },
    "disruptions": {
        "china_export_ban": {
            "probability": "15%", "start": "6 months", "duration": "1 year",
            "hits": [{"countries": ["CN"], "severity": "100%"}], "price_multiplier": 2.5,
        },
        "licensing": {
            "probability": "20%", "start": "1 year", "duration": "6 months",
            "hits": [{"countries": ["CN"], "goods": ["gallium"], "severity": "50%"}],
        },
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report")
    result = run(SMALL)
    assert result.status == "optimal"
    write_report(result, out / "report.html")
    write_portfolio_xlsx(result, out / "portfolio.xlsx")
    (out / "portfolio.json").write_text(dumps_json(result.portfolio), encoding="utf-8")
    pf = json.loads((out / "portfolio.json").read_text(encoding="utf-8"))
    return {"dir": out, "pf": pf, "resolved": result.loaded.resolved, "result": result}


# --- helpers ---------------------------------------------------------------------------------


class _Collect(HTMLParser):
    """Every element with its attributes and text, in document order."""

    def __init__(self):
        super().__init__()
        self.elements: list[dict] = []
        self._stack: list[dict] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(el)
        if tag not in ("img", "br", "meta", "link", "input", "hr"):
            self._stack.append(el)

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        for el in self._stack:
            el["text"] += data


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    return p


def _at(data, path: list[str]):
    for part in path:
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


def _check_figures(elements: list[dict], pf: dict) -> int:
    """Every ``data-key`` element equals portfolio.json at its path; returns how many."""
    checked = 0
    for el in elements:
        attrs = el["attrs"]
        if "data-key" not in attrs:
            continue
        path = json.loads(attrs["data-path"])
        assert ".".join(path) == attrs["data-key"]
        expected = _at(pf, path)
        assert isinstance(expected, (int, float)), attrs["data-key"]
        got = float(attrs["data-value"])
        assert _close(got, float(expected)), f"{attrs['data-key']}: page {got} != json {expected}"
        assert el["text"].strip(), f"{attrs['data-key']} shows no text"
        checked += 1
    return checked


def _chromium(args: list[str], user_dir: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={user_dir}",
        "--hide-scrollbars", *args,
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(user_dir)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium not installed at /usr/bin/chromium "
    "(apt-get install -y chromium); CI installs it",
)

#: Injected into a copy of the page: records, once everything loaded, each image's state.
PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img');
  imgs.forEach(function (img) {
    img.setAttribute('data-natural-width', String(img.naturalWidth));
    img.setAttribute('data-natural-height', String(img.naturalHeight));
    img.setAttribute('data-complete', String(img.complete));
  });
  document.body.setAttribute('data-images', String(imgs.length));
  document.body.setAttribute('data-probe', 'done');
});
</script>"""


def _loaded_in_chromium(html: str, tmp_path: Path):
    """Load ``html`` (with :data:`PROBE` added) in headless Chromium until its load event has
    fired; the parsed DOM and its ``body`` element."""
    page_file = tmp_path / "probe.html"
    page_file.write_text(html.replace("</body>", PROBE + "\n</body>"), encoding="utf-8")
    proc = _chromium(
        ["--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000",
         "--dump-dom", page_file.as_uri()],
        tmp_path / "profile",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = _parse(proc.stdout)
    body = next(el for el in dom.elements if el["tag"] == "body")
    assert body["attrs"].get("data-probe") == "done", "the page's load event never fired"
    return dom, body


# --- the page without a browser ---------------------------------------------------------------


def test_every_figure_on_the_page_equals_portfolio_json(outputs):
    html = (outputs["dir"] / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    n = _check_figures(page.elements, outputs["pf"])
    pf = outputs["pf"]
    # every good's main decisions and risks are on the page
    keys = {el["attrs"]["data-key"] for el in page.elements if "data-key" in el["attrs"]}
    for g in pf["goods"]:
        for leaf in ("stockpile.buy", "stockpile.days_of_cover", "domestic.capacity", "cash",
                     "economic_cost", "expected_shortfall", "worst_shortfall", "expected_damage",
                     "hhi.before", "hhi.after"):  # fmt: skip
            assert f"goods.{g}.{leaf}" in keys
        for c in pf["goods"][g]["supply_shares"]["after"]:
            assert f"goods.{g}.supply_shares.after.{c}" in keys
    for k in pf["scenarios"]:
        assert f"scenarios.{k}.loss" in keys and f"scenarios.{k}.probability" in keys
    for name in pf["budget"]["lines"]:
        assert f"budget.lines.{name}.marginal_value" in keys
    assert {"cost.first_stage_cash", "cost.expected_loss", "cost.cvar", "budget.total.used"} <= keys
    assert n > 50


def test_assumptions_on_the_page_equal_the_resolved_scenario(outputs):
    page = _parse((outputs["dir"] / "report.html").read_text(encoding="utf-8"))
    inputs = [el for el in page.elements if "data-input" in el["attrs"]]
    for el in inputs:
        expected = _at(outputs["resolved"], el["attrs"]["data-input"].split("."))
        assert _close(float(el["attrs"]["data-value"]), float(expected)), el["attrs"]["data-input"]
    got = {el["attrs"]["data-input"] for el in inputs}
    assert {"window.years", "goods.gallium.demand", "goods.gallium.damage",
            "disruptions.china_export_ban.probability", "budget.total"} <= got  # fmt: skip


def test_page_is_self_contained_with_plain_headings(outputs):
    html = (outputs["dir"] / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    headings = [el["text"].strip() for el in page.elements if el["tag"] == "h2"]
    for h in ("What to buy and build", "Budget use", "Risk of shortfall",
              "Where supply comes from", "Scenarios", "Assumptions read"):  # fmt: skip
        assert h in headings
    imgs = [el for el in page.elements if el["tag"] == "img"]
    assert len(imgs) == 4
    for img in imgs:
        src = img["attrs"]["src"]
        assert src.startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
        assert svg.startswith("<svg ") and svg.endswith("</svg>")
        assert "<script" not in svg.lower()  # scenario text stays text inside the chart too
        assert img["attrs"].get("alt")
    for el in page.elements:  # nothing loaded from elsewhere, no script
        assert el["tag"] not in ("script", "link", "iframe")
        for attr in ("src", "href"):
            assert not el["attrs"].get(attr, "data:").startswith(("http:", "https:", "//"))


def test_user_text_is_escaped(outputs):
    html = (outputs["dir"] / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "<b>escaping</b>" not in html
    assert "Gallium &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; germanium" in html
    assert "Japan &lt;JP&gt;" in html


def test_numbers_carry_units_and_thousands_separators():
    assert fmt_money(12_500_000) == "EUR\u00a012.5\u00a0M"
    assert fmt_money(1_234_567_890) == "EUR\u00a01,234.6\u00a0M"
    assert fmt_money(78_000) == "EUR\u00a00.078\u00a0M"
    assert fmt_money(3e-9) == "EUR\u00a00"
    assert fmt_qty(25_500, "t") == "25,500\u00a0t"
    assert fmt_qty(40.0, "t/yr") == "40\u00a0t/yr"
    assert fmt_qty(0.024, "t") == "0.024\u00a0t"


def test_time_limit_run_shows_a_visible_warning_with_the_gap(outputs):
    pf = json.loads(json.dumps(outputs["pf"]))
    pf.update(status="time_limit", mip_gap=0.0234)
    page = _parse(render_report(pf, outputs["resolved"]))
    warning = [el for el in page.elements if el["attrs"].get("id") == "time-limit-warning"]
    assert warning and "2.3" in warning[0]["text"] and "time limit" in warning[0]["text"]
    gap = [el for el in page.elements if el["attrs"].get("data-key") == "mip_gap"]
    assert gap and float(gap[0]["attrs"]["data-value"]) == 0.0234
    status = [el for el in page.elements if el["attrs"].get("id") == "status"][0]
    assert status["attrs"]["data-status"] == "time_limit"


def test_a_run_without_portfolio_still_renders():
    pf = {"scenario": "x", "status": "infeasible", "termination": "infeasible", "mip_gap": None,
          "objective": None, "cost": None, "budget": None, "goods": {}, "scenarios": {},
          "solver": {"seconds": 0.1}}  # fmt: skip
    html = render_report(pf, {})
    assert 'id="no-solution"' in html and "<img" not in html


# --- the page in a real browser ---------------------------------------------------------------


@needs_chromium
def test_report_renders_in_chromium_with_all_charts_loaded(outputs, tmp_path):
    dom, body = _loaded_in_chromium((outputs["dir"] / "report.html").read_text("utf-8"), tmp_path)
    imgs = [el for el in dom.elements if el["tag"] == "img"]
    assert int(body["attrs"]["data-images"]) == len(imgs) == 4
    for img in imgs:
        assert img["attrs"]["data-complete"] == "true", img["attrs"].get("data-chart")
        assert int(img["attrs"]["data-natural-width"]) > 300, img["attrs"].get("data-chart")
        assert int(img["attrs"]["data-natural-height"]) > 100, img["attrs"].get("data-chart")
    # the figures the browser shows are those of portfolio.json
    assert _check_figures(dom.elements, outputs["pf"]) > 50
    title = next(el for el in dom.elements if el["tag"] == "h1")
    assert title["text"].startswith("Gallium <script>")  # shown as text, not run


@needs_chromium
def test_report_screenshot_shows_a_drawn_page(outputs, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    shot = tmp_path / "shot.png"
    proc = _chromium(
        ["--window-size=1280,3000", f"--screenshot={shot}",
         (outputs["dir"] / "report.html").as_uri()],
        tmp_path / "profile",
    )  # fmt: skip
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    img = mpimg.imread(shot)
    assert img.shape[:2] == (3000, 1280)
    rgb = img[..., :3]
    ink = (rgb.mean(axis=2) < 0.5).mean()  # dark pixels: text, bars
    assert ink > 0.01, "the screenshot is (nearly) blank"
    # the charts' colours are on screen (the first chart is within 3,000 px)
    assert np.unique((rgb * 255).astype(int).reshape(-1, 3), axis=0).shape[0] > 50


# --- portfolio.xlsx -----------------------------------------------------------------------------


def test_xlsx_portfolio_sheet_equals_portfolio_json(outputs):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(outputs["dir"] / "portfolio.xlsx")
    assert wb.sheetnames[:1] == ["Portfolio"]
    assert {"Budget", "Scenarios", "Supply shares", "Assumptions"} <= set(wb.sheetnames)
    pf = outputs["pf"]

    ws = wb["Portfolio"]
    assert ws.freeze_panes == "B2"
    header = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(header)}
    expect = {
        "Stock bought (units)": ("stockpile", "buy"),
        "Stock held (units)": ("stockpile", "level"),
        "Stock held (days of demand)": ("stockpile", "days_of_cover"),
        "Domestic capacity built (units/yr)": ("domestic", "capacity"),
        "Cash, total (EUR)": ("cash",),
        "Economic cost (EUR)": ("economic_cost",),
        "Expected shortfall (units over the window)": ("expected_shortfall",),
        "Worst-case shortfall (units)": ("worst_shortfall",),
        "Expected damage (EUR)": ("expected_damage",),
        "Concentration before (HHI)": ("hhi", "before"),
        "Concentration after (HHI)": ("hhi", "after"),
        "Cash: stockpile (EUR)": ("cash_by_lever", "stockpile"),
    }
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == list(pf["goods"])
    for row in rows:
        good = pf["goods"][row[0]]
        for head, path in expect.items():
            assert _close(float(row[col[head]]), float(_at(good, list(path)))), (row[0], head)
        assert _close(float(row[col["Reserved capacity, all suppliers (units/yr)"]]),
                      sum(good["reserve"].values()))  # fmt: skip
        assert ws.cell(
            row=rows.index(row) + 2, column=col["Cash, total (EUR)"] + 1
        ).number_format.startswith("#,##0")

    budget = {r[0]: r for r in wb["Budget"].iter_rows(min_row=2, values_only=True)}
    assert _close(budget["total"][2], pf["budget"]["total"]["used"])
    for name, line in pf["budget"]["lines"].items():
        assert _close(budget[name][1], line["limit"]) and _close(
            budget[name][4] or 0.0, line["marginal_value"]
        )
    scen = {r[0]: r for r in wb["Scenarios"].iter_rows(min_row=2, values_only=True)}
    for k, s in pf["scenarios"].items():
        assert _close(scen[k][1], s["probability"]) and _close(scen[k][2] or 0.0, s["loss"])
    shares = {(r[0], r[1]): r for r in wb["Supply shares"].iter_rows(min_row=2, values_only=True)}
    for g, v in pf["goods"].items():
        for c, s in v["supply_shares"]["after"].items():
            assert _close(shares[(g, c)][4], s)


def test_report_files_written_by_a_run_folder(outputs, tmp_path):
    """The writers work as ``RunResult.write`` callbacks: into a folder written atomically."""
    from optimizer.results import write_folder

    result = outputs["result"]
    out = write_folder(
        tmp_path / "run",
        {
            "report.html": lambda p: write_report(result, p),
            "portfolio.xlsx": lambda p: write_portfolio_xlsx(result, p),
        },
    )
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / "portfolio.xlsx").stat().st_size > 3_000
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    shutil.rmtree(out)


# --- a sweep's report.html ----------------------------------------------------------------------

SWEEP_CASE = {
    "name": "Gallium <script>alert('x')</script> sweep",
    "window": {"years": 1, "period": "year"},
    "countries": {"CN": {}, "JP": {}},
    "goods": {
        "gallium": {
            "demand": 100,
            "damage": 100,
            "suppliers": {
                "cn": {"country": "CN", "unit_cost": 10, "capacity": 1000},
                "jp": {
                    "country": "JP",
                    "unit_cost": 30,
                    "capacity": 0,
                    "reserve": {"max": 30, "fee": 5},
                },
            },
            "stockpile": {"unit_cost": 20, "storage_cost": 2, "max_release": 60},
        }
    },
    "disruptions": {
        "ban": {
            "probability": 0.3,
            "duration": "1 year",
            "hits": [{"countries": ["CN"], "severity": 1.0}],
        }
    },
}


@needs_chromium
def test_sweep_report_renders_in_chromium_with_its_chart(tmp_path):
    """A sweep's ``report.html`` loads in a browser with its one chart drawn, shows the
    scenario's name as text (escaped, not run) and has its frontier table."""
    from optimizer.studies.sweep import sweep_budget

    res = sweep_budget(SWEEP_CASE, [0, 500, 1000, 1500, 2000])
    out = res.write(tmp_path / "sweep")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html
    dom, body = _loaded_in_chromium(html, tmp_path)
    imgs = [el for el in dom.elements if el["tag"] == "img"]
    assert len(imgs) == 1 and imgs[0]["attrs"]["data-chart"] == "frontier"
    assert imgs[0]["attrs"]["data-complete"] == "true"
    assert int(imgs[0]["attrs"]["data-natural-width"]) > 600
    title = next(el for el in dom.elements if el["tag"] == "h1")
    assert title["text"].startswith("Gallium <script>alert")  # shown as text
    keys = [el["attrs"]["data-key"] for el in dom.elements if "data-key" in el["attrs"]]
    assert sum(k.startswith("frontier.") and k.endswith(".objective") for k in keys) == 5
