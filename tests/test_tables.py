"""Tidy tables (issue 18, item 4): one number per cell, one type per column, no float noise.

Read back as a data tool reads them (pandas here; DuckDB is not installed): every CSV and
every sheet of the workbook, each column of one type, no packed text (``CN=0.750; JP=0.075``)
except the two summaries the results contract names in ``portfolio.csv``.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from optimizer.api import RunConfig, run
from optimizer.results.cells import SIGNIFICANT_DIGITS, append_row, round_figure, round_figures
from optimizer.results.portfolio import reserves_table, supply_shares_table
from optimizer.results.write import dumps_json, write_csv, write_large_csv

PACKED = re.compile(r"\w+=\d")
#: Columns of portfolio.csv that the results contract names: readable summaries, kept.
CONTRACT_SUMMARIES = {"shares_before", "shares_after"}


# --- rounding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.02400000000000013, 0.024),  # float noise in the 16th digit goes
        (0.3999999999999999, 0.4),
        (0.1 + 0.2, 0.3),
        (1 / 3, 0.333333333333),  # 12 significant digits
        (2e9 / 3, 666666666.667),
        (123456789012345.6, 123456789012000.0),
        (-(0.1 + 0.2), -0.3),
        (40 / 12, 3.33333333333),
        (1e-30, 1e-30),  # scale beyond exact powers of ten: left as it is
        (0.0, 0.0),
    ],
)
def test_round_figure_keeps_twelve_significant_digits(value, expected):
    assert SIGNIFICANT_DIGITS == 12
    assert round_figure(value) == expected
    assert repr(round_figure(value)) == repr(expected)  # printed short, as files show it


def test_round_figures_is_vectorised_close_and_idempotent():
    """Random values over 20 orders of magnitude (1e-10 to 1e10, both signs): each within half
    a unit of the 12th digit (relative error <= 5e-12), rounding twice changes nothing,
    non-finite values stay."""
    rng = np.random.default_rng(7)
    sign = rng.choice([-1.0, 1.0], 10_000)
    x = sign * rng.uniform(0.1, 1, 10_000) * 10.0 ** rng.integers(-9, 11, 10_000)
    r = round_figures(x)
    assert np.all(np.abs(r - x) <= 5e-12 * np.abs(x) * (1 + 1e-9))
    assert np.array_equal(round_figures(r), r)
    assert all(float(f"{v:.12g}") == v for v in r)  # each is its 12-digit decimal
    odd = round_figures(np.array([np.nan, np.inf, -np.inf]))
    assert np.isnan(odd[0]) and odd[1] == np.inf and odd[2] == -np.inf


def test_round_figures_in_blocks_rounds_every_value():
    """Long columns are rounded block by block: every value, across block boundaries, and a
    table of two dimensions keeps its shape."""
    from optimizer.results.cells import _CHUNK

    x = np.full(2 * _CHUNK + 3, 0.02400000000000013)
    assert np.all(round_figures(x) == 0.024)
    grid = round_figures(np.full((3, 2), 0.3999999999999999))
    assert grid.shape == (3, 2) and np.all(grid == 0.4)


def test_csv_json_and_workbook_cells_are_rounded_in_one_place(tmp_path):
    table = pd.DataFrame({"good": ["g"], "share": [0.02400000000000013], "n": [3]})
    write_csv(table, tmp_path / "a.csv")
    write_large_csv(table, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_text().splitlines()[1] == "g,0.024,3"
    assert (tmp_path / "b.csv").read_text().splitlines()[1] == '"g",0.024,3'
    text = dumps_json({"p": 0.3999999999999999, "x": float("nan"), "k": 3})
    assert json.loads(text) == {"p": 0.4, "x": None, "k": 3}
    assert "0.3999" not in text
    wb = openpyxl.Workbook()
    append_row(wb.active, ["g", 0.02400000000000013, 3])
    wb.save(tmp_path / "c.xlsx")
    assert [c.value for c in openpyxl.load_workbook(tmp_path / "c.xlsx").active[1]] == [
        "g",
        0.024,
        3,
    ]


# --- the long tables from portfolio.json, by hand ---------------------------------------------

PF = {
    "goods": {
        "gallium": {
            "unit": "t",
            "reserve": {"japan": 10.0, "korea": 0.0},
            "supply_shares": {
                "before": {"CN": 0.75, "JP": 0.25},
                "after": {"JP": 0.6, "domestic": 0.4},
            },
        },
        "graphite": {"unit": "kt", "reserve": {}, "supply_shares": {"before": {}, "after": {}}},
    }
}
RESOLVED = {
    "goods": {
        "gallium": {
            "suppliers": {
                "japan": {"country": "JP", "reserve": {"max": 12.0, "fee": 30_000.0}},
                "korea": {"country": "KR", "reserve": {"max": 5.0, "fee": 20_000.0}},
            }
        }
    }
}


def test_supply_shares_table_one_row_per_good_and_country():
    """gallium: CN 0.75 / 0 (gone after), JP 0.25 / 0.6, domestic 0 / 0.4; graphite (no
    supply) has no row. Each side sums to 1: 0.75 + 0.25 and 0.6 + 0.4."""
    t = supply_shares_table(PF)
    assert list(t.columns) == ["good", "country", "before", "after"]
    assert t.values.tolist() == [
        ["gallium", "CN", 0.75, 0.0],
        ["gallium", "JP", 0.25, 0.6],
        ["gallium", "domestic", 0.0, 0.4],
    ]
    assert t.before.sum() == pytest.approx(1.0) and t.after.sum() == pytest.approx(1.0)


def test_reserves_table_one_row_per_supplier_with_fee_per_year():
    """japan: 10 t/yr reserved x 30,000 EUR per t/yr = 300,000 EUR per year; korea: offered
    (up to 5) but not used, 0 x 20,000 = 0. Types hold on an empty table too."""
    t = reserves_table(PF, RESOLVED)
    assert t.values.tolist() == [
        ["gallium", "japan", "JP", "t", 10.0, 12.0, 30_000.0, 300_000.0],
        ["gallium", "korea", "KR", "t", 0.0, 5.0, 20_000.0, 0.0],
    ]
    empty = reserves_table({"goods": {}}, {})
    assert len(empty) == 0 and empty["fee_eur_per_year"].dtype == float


# --- a real run, read back ------------------------------------------------------------------------

SCENARIO = {
    "name": "tables",
    "window": {"years": 1, "period": "quarter"},
    "countries": {"CN": {"name": "China"}, "JP": {"name": "Japan"}},
    "goods": {
        "gallium": {
            "unit": "t",
            "demand": 100,
            "damage": "1M",
            "suppliers": {
                "china": {"country": "CN", "unit_cost": 10, "capacity": 75},
                "japan": {
                    "country": "JP",
                    "unit_cost": 20,
                    "capacity": 100,
                    "spot_lead_time": "1 year",
                    "reserve": {"max": 30, "fee": 1},
                },
            },
        }
    },
    "disruptions": {
        "ban": {"probability": "40%", "duration": "1 year", "hits": [{"countries": ["CN"]}]}
    },
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    result = run(SCENARIO, RunConfig(mip_gap=1e-9))
    assert result.status == "optimal"
    return result.write(tmp_path_factory.mktemp("tables") / "out")


def test_run_tables_hold_the_hand_worked_answer(folder):
    """Before (no levers): 100 t/yr from the cheapest first: China 75 (75 %), Japan 25
    (25 %). During the ban (a whole year) Japan delivers only reserved capacity: each t/yr
    reserved costs a fee of 1 and saves 1M of damage with probability 0.4, so all 30 t/yr are
    reserved; fee per year 30 x 1 = 30 EUR. Normal times keep the cheapest mix, 75 / 25."""
    shares = pd.read_csv(folder / "supply_shares.csv")
    assert shares.set_index("country").before.to_dict() == pytest.approx({"CN": 0.75, "JP": 0.25})
    assert shares.set_index("country").after.to_dict() == pytest.approx({"CN": 0.75, "JP": 0.25})
    reserves = pd.read_csv(folder / "reserves.csv")
    assert reserves.values.tolist()[0][:4] == ["gallium", "japan", "JP", "t"]
    assert reserves.reserved_per_year[0] == pytest.approx(30.0)
    assert reserves.fee_eur_per_year[0] == pytest.approx(30.0)
    pf = json.loads((folder / "portfolio.json").read_text())
    goods = pd.read_csv(folder / "portfolio.csv")
    assert goods.reserve_total_per_year[0] == pytest.approx(reserves.reserved_per_year.sum())
    assert pf["goods"]["gallium"]["reserve"] == {"japan": pytest.approx(30.0)}
    assert pf["scenarios"]["ban"]["probability"] == 0.4  # no 0.39999999999999997


@pytest.mark.parametrize(
    "name", ["portfolio.csv", "scenarios.csv", "supply_shares.csv", "reserves.csv"]
)
def test_every_csv_is_tidy(folder, name):
    """Every column of one type (numbers parse as numbers, text columns hold only text), no
    packed cell, no number with more than 12 significant digits in the file's text."""
    table = pd.read_csv(folder / name)
    assert len(table) > 0
    for col in table.columns:
        s = table[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            assert all(isinstance(v, str) for v in s.dropna()), (name, col)
            if col not in CONTRACT_SUMMARIES:
                assert not s.dropna().str.contains(PACKED).any(), (name, col)
        else:
            assert s.dtype.kind in "fib", (name, col, s.dtype)
    text = (folder / name).read_text()
    long_numbers = re.findall(r"(?<![\w.])-?\d+\.\d+(?:e[-+]?\d+)?", text)
    assert all(len(n.split("e")[0].strip("-").replace(".", "").lstrip("0")) <= 12
               for n in long_numbers), name  # fmt: skip


def test_portfolio_csv_has_no_packed_reserve_column(folder):
    goods = pd.read_csv(folder / "portfolio.csv")
    assert "reserve_per_year" not in goods.columns  # per supplier: reserves.csv
    assert set(goods.columns) >= CONTRACT_SUMMARIES  # kept: named by the results contract


def test_every_sheet_is_tidy_and_matches_the_csv_tables(folder):
    wb = openpyxl.load_workbook(folder / "portfolio.xlsx")
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(min_row=2, values_only=True))
        for j in range(ws.max_column):
            values = [r[j] for r in rows if r[j] is not None]
            kinds = {("text" if isinstance(v, str) else "number") for v in values}
            if ws.title != "Assumptions":  # key path -> value of any kind
                assert len(kinds) <= 1, (ws.title, j, kinds)
            for v in values:
                if isinstance(v, str):
                    assert not PACKED.search(v), (ws.title, v)
                elif isinstance(v, float) and math.isfinite(v):
                    assert v == round_figure(v), (ws.title, v)
    shares = pd.read_csv(folder / "supply_shares.csv")
    sheet = [r for r in wb["Supply shares"].iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[1], r[3], r[4]) for r in sheet] == list(
        shares.itertuples(index=False, name=None)
    )
    assert [r[2] for r in sheet] == ["China", "Japan"]
    reserves = pd.read_csv(folder / "reserves.csv")
    sheet = [r for r in wb["Reserve contracts"].iter_rows(min_row=2, values_only=True)]
    assert [r[5] for r in sheet] == reserves.reserved_per_year.tolist()
    assert [r[8] for r in sheet] == reserves.fee_eur_per_year.tolist()


def test_portfolio_json_has_no_float_noise(folder):
    def floats(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from floats(v)
        elif isinstance(node, list):
            for v in node:
                yield from floats(v)
        elif isinstance(node, float):
            yield node

    pf = json.loads((folder / "portfolio.json").read_text())
    assert all(v == round_figure(v) for v in floats(pf))


def test_batch_fallback_portfolio_csv_goes_through_write_csv(folder, tmp_path):
    """A batch run whose worker could not write has its portfolio.csv written by the client:
    through write_csv too, so a formula-like good name is neutralised and floats rounded."""
    from optimizer.studies.batch_records import _write_fallback

    pf = json.loads((folder / "portfolio.json").read_text())
    good = pf["goods"].pop("gallium")
    good["expected_shortfall"] = 0.02400000000000013
    pf["goods"]["=HYPERLINK(1)"] = good
    res = {"portfolio": pf, "status_doc": {"name": "r"}, "write_error": "disk full"}
    _write_fallback(tmp_path / "run", res, None)
    row = (tmp_path / "run" / "portfolio.csv").read_text().splitlines()[1]
    assert row.startswith("'=HYPERLINK(1),") and ",0.024," in row
