"""The page shell and HTML helpers the report pages share (``report.html``, ``sweep.html``).

Numbers are formatted for people (``EUR 250M``, ``1,200 t``, ``65%``) and carry ``data-key``,
``data-path`` and ``data-value`` so tests and scripts can check a page against its JSON;
:func:`html_page` wraps sections in one self-contained page with the styles inline.
"""

from __future__ import annotations

import base64
import json
from html import escape
from typing import Any

from optimizer.results.charts.run import (
    MAX_CHART_ROWS,
)

NBSP = "\u00a0"


DASH = "\u2013"


def _top_note(count: int, what: str, listed: int | None = None) -> str:
    """A caption's note when a chart shows only the largest entries; ``listed``, when given,
    is how many of them the table below lists (all by default)."""
    if count <= MAX_CHART_ROWS:
        return ""
    table = (
        "the table lists all"
        if listed is None or listed >= count
        else f"the table lists the {listed:,} largest"
    )
    return f" The chart shows the {MAX_CHART_ROWS} largest of {count:,} {what}; {table}."


def _listed_note(listed: int, count: int) -> str:
    """A note above a table of futures that lists only the largest of them."""
    if listed >= count:
        return ""
    return (
        f'<p class="note">The table lists the {listed:,} of {count:,} scenarios with the '
        "largest expected loss (probability x damage); every scenario is in portfolio.json "
        "(<code>scenarios</code>) and scenarios.csv.</p>"
    )


def fmt_money(v: float | None) -> str:
    """Euros, always in millions with thousands separators: ``EUR 1,234.5 M``, ``EUR 0.078 M``."""
    if v is None:
        return DASH
    if abs(v) < 0.5:  # solver noise (1e-9 euros) reads as zero
        return f"EUR{NBSP}0"
    m = v / 1e6
    text = f"{m:,.1f}" if abs(m) >= 0.95 else f"{m:,.2g}"
    return f"EUR{NBSP}{text}{NBSP}M"


def fmt_qty(v: float | None, unit: str = "") -> str:
    """A quantity with thousands separators and its unit: ``40 t``, ``1,436.8 t``, ``0.024 t``."""
    if v is None:
        return DASH
    if v == 0:
        text = "0"
    elif abs(v) >= 100:
        text = f"{v:,.0f}"
    elif abs(v) >= 1:
        text = f"{v:,.1f}"
        text = text[:-2] if text.endswith(".0") else text
    else:
        text = f"{v:.2g}"
    return f"{text}{NBSP}{unit}" if unit else text


def fmt_share(v: float | None) -> str:
    """A fraction as a percentage: ``75.0 %``, ``0.012 %``."""
    if v is None:
        return DASH
    p = v * 100
    text = f"{p:.1f}" if (p == 0 or abs(p) >= 0.1) else f"{p:.2g}"
    return f"{text}{NBSP}%"


def fmt_days(v: float | None) -> str:
    return DASH if v is None else f"{v:,.0f}{NBSP}days"


def fmt_duration_years(years: float | None) -> str:
    if years is None:
        return DASH
    months = years * 12
    if abs(months - round(months)) < 1e-6 and months < 36 and round(months) % 12:
        return f"{round(months)}{NBSP}months"
    text = f"{years:,.2f}".rstrip("0").rstrip(".")
    return f"{text}{NBSP}{'year' if text == '1' else 'years'}"


def _label(name: str) -> str:
    return name.replace("_", " ")


def _num_attrs(path: list[str], value: float | None, attr: str = "data-key") -> str:
    if value is None or isinstance(value, bool):
        return ""
    dotted = ".".join(str(p) for p in path)
    out = f' {attr}="{escape(dotted)}" data-value="{float(value)!r}"'
    if attr == "data-key":
        out += f' data-path="{escape(json.dumps([str(p) for p in path]))}"'
    return out


def num(text: str, path: list[str] | None = None, value: float | None = None) -> str:
    """An inline figure from ``portfolio.json`` (a span carrying its JSON path and raw value)."""
    attrs = _num_attrs(path, value) if path is not None else ""
    return f'<span class="fig"{attrs}>{escape(text)}</span>'


def td(text: str, path: list[str] | None = None, value: float | None = None, cls: str = "n") -> str:
    """A table cell; numeric cells are right-aligned and carry their JSON path and raw value."""
    attrs = _num_attrs(path, value) if path is not None else ""
    return f'<td class="{cls}"{attrs}>{escape(text)}</td>'


def td_in(text: str, path: list[str] | None = None, value: Any = None, cls: str = "n") -> str:
    """A table cell holding an assumption read from the scenario (``data-input``)."""
    attrs = ""
    if path is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        attrs = _num_attrs(path, value, attr="data-input")
    return f'<td class="{cls}"{attrs}>{escape(text)}</td>'


def th(*labels: str) -> str:
    return "<tr>" + "".join(f"<th>{escape(x)}</th>" for x in labels) + "</tr>"


def _table(head: str, rows: list[str], cls: str = "") -> str:
    body = "\n".join(f"<tr>{r}</tr>" for r in rows)
    return (
        f'<div class="tw"><table class="{cls}"><thead>{head}</thead>'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _img(image: bytes | None, alt: str, name: str, caption: str) -> str:
    """A figure holding ``image`` (SVG or PNG bytes) as a data URI, with its caption."""
    if not image:
        return ""
    mime = "image/svg+xml" if image.lstrip()[:4] == b"<svg" else "image/png"
    data = base64.b64encode(image).decode("ascii")
    return (
        f'<figure><img src="data:{mime};base64,{data}" alt="{escape(alt)}" '
        f'data-chart="{escape(name)}"><figcaption>{escape(caption)}</figcaption></figure>'
    )


CSS = """
:root { --ink:#1c2733; --muted:#5b6670; --line:#d5dbe1; --band:#f3f6f9; --accent:#1f4e79;
        --ok:#2d7d46; --warn:#a86400; --bad:#b03a2e; }
* { box-sizing: border-box; }
body { margin:0; background:#eef1f4; color:var(--ink);
       font: 15px/1.5 "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; background:#fff; padding: 32px 48px 48px;
       box-shadow: 0 0 12px rgba(0,0,0,.08); }
header { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 8px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--muted); }
h1 { font-size: 27px; margin: 4px 0 6px; line-height: 1.25; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line);
     color: var(--accent); }
h3 { font-size: 16px; margin: 22px 0 6px; }
p { margin: 6px 0 10px; }
.lead { color: var(--muted); margin: 0; }
.meta { color: var(--muted); font-size: 13px; margin-top: 8px; }
.badge { display:inline-block; padding: 1px 9px; border-radius: 10px; color:#fff; font-size: 12.5px;
         font-weight: 600; vertical-align: 2px; }
.badge.ok { background: var(--ok); } .badge.warn { background: var(--warn); }
.badge.bad { background: var(--bad); }
.alert { border-left: 5px solid var(--warn); background: #fff6e5; padding: 10px 14px;
         margin: 14px 0; }
.alert.bad { border-color: var(--bad); background: #fdeceb; }
.cards { display:grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 16px 0 8px; }
.card { background: var(--band); border: 1px solid var(--line); border-radius: 6px;
        padding: 10px 14px; }
.card .label { font-size: 12.5px; color: var(--muted); }
.card .value { font-size: 21px; font-weight: 650; margin-top: 2px; white-space: nowrap; }
ul.recs { padding-left: 20px; margin: 6px 0 14px; } ul.recs li { margin: 4px 0; }
.tw { overflow-x: auto; margin: 8px 0 14px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th { text-align: left; background: var(--band); border-bottom: 2px solid var(--line);
     padding: 6px 8px;
     font-weight: 600; vertical-align: bottom; }
td { border-bottom: 1px solid var(--line); padding: 5px 8px; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.t { text-align: left; }
tbody tr:nth-child(even) td { background: #fafbfc; }
table.compact { font-size: 12.5px; } table.compact td, table.compact th { padding: 4px 6px; }
figure { margin: 12px 0 18px; } figure img { max-width: 100%; height: auto; display:block; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.note { color: var(--muted); font-size: 13px; }
.fig { font-variant-numeric: tabular-nums; white-space: nowrap; }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line);
         color: var(--muted);
         font-size: 12.5px; }
@media print { body { background:#fff; } main { box-shadow:none; padding: 0; }
               h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
@media (max-width: 800px) { .cards { grid-template-columns: repeat(2, 1fr); }
                            main { padding: 16px; } }
"""


def html_page(title: str, sections: list[str]) -> str:
    """A self-contained HTML page: the report styles inline, the non-empty ``sections`` (HTML)
    one after the other in ``<main>``; ``title`` is escaped."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(x for x in sections if x)
        + "\n</main>\n</body>\n</html>\n"
    )


def _per_unit(v: float | None, unit: str) -> str:
    """Money per unit, in euros with thousands separators: ``EUR 325,000 per t``."""
    if v is None:
        return DASH
    text = f"{v:,.0f}" if abs(v) >= 100 or v == 0 else f"{v:,.2f}"
    return f"EUR{NBSP}{text}{NBSP}per{NBSP}{unit}" if unit else f"EUR{NBSP}{text}"
