"""Small hand-written SVG bar charts for the run report: no plotting library, no font metrics.

The run report's four charts are horizontal bars with a value axis, text beside the bars and a
legend. Drawing them with matplotlib cost more than the whole model and solve of a small run
(its import and text layout: about 2.5 s of a 7 s run on a loaded machine; benchmarks/README.md,
"A small run, end to end"); writing the SVG text directly costs milliseconds. Every text in the
SVG (goods' and suppliers' labels come from the scenario file) goes through :func:`text`, so
scenario text is never markup, and the page embeds the SVG as an ``<img>`` data URI, in which
a browser runs no script anyway.

Text widths are estimated (:data:`CHAR_WIDTH` of the font size per character), so the left
margin fits the longest label without measuring fonts; labels longer than :data:`MAX_LABEL`
characters are shortened with an ellipsis (the tables beside each chart give them whole).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 860
"""Chart width in CSS pixels (the report's column is about 900 px)."""
ROW = 26.0
"""Height of one bar's row, pixels."""
FONT = 12.0
"""Label font size, pixels; values and legend use 11."""
CHAR_WIDTH = 0.6
"""Estimated width of one character as a share of the font size (DejaVu Sans averages 0.55-0.6)."""
MAX_LABEL = 44
FONT_FAMILY = "DejaVu Sans, Helvetica, Arial, sans-serif"
TEXT = "#222222"
AXIS = "#888888"
GRID = "#d9d9d9"


def text(value: object) -> str:
    """``value`` as SVG text content or attribute: ``&``, ``<``, ``>`` and quotes escaped."""
    return escape(str(value), quote=True)


def shorten(label: str, limit: int = MAX_LABEL) -> str:
    """``label`` cut to ``limit`` characters, the last one an ellipsis when cut."""
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def text_width(s: str, size: float = FONT) -> float:
    """Estimated width in pixels of ``s`` at font ``size``."""
    return len(s) * size * CHAR_WIDTH


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at most ``top``: steps of 1, 2, 2.5 or 5 times a power of 10,
    about ``count`` of them (``nice_ticks(180)`` = 0, 50, 100, 150)."""
    if not top > 0 or not math.isfinite(top):
        return [0.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = int(math.floor(top / step + 1e-9))
    return [i * step for i in range(n + 1)]


@dataclass(frozen=True)
class Segment:
    """One filled piece of a bar from ``start`` to ``start + width`` (axis units)."""

    start: float
    width: float
    fill: str
    stroke: str | None = None
    height: float = 0.6
    """Share of the row's height."""
    inner: str | None = None
    """Text centred on the segment (drawn only if it fits)."""
    inner_ink: str = "white"


@dataclass
class Bar:
    """One row: its label on the left, its segments, and text after its longest end."""

    label: str
    segments: list[Segment] = field(default_factory=list)
    end_text: str = ""
    end_at: float | None = None
    """Where ``end_text`` starts (axis units); the end of the longest segment by default."""


@dataclass(frozen=True)
class VLine:
    """A vertical reference line at ``x`` (axis units) with a short caption at its top."""

    x: float
    colour: str
    caption: str = ""
    dashed: bool = True


def bar_chart(
    bars: Sequence[Bar],
    *,
    x_max: float,
    x_label: str,
    tick_format: Callable[[float], str] = lambda v: f"{v:,.0f}",
    legend: Sequence[tuple[str, str]] = (),
    vlines: Sequence[VLine] = (),
    separators: Sequence[int] = (),
    note: str = "",
    ticks: Sequence[float] | None = None,
) -> bytes:
    """A horizontal bar chart as SVG bytes, the first bar at the top.

    ``x_max``: the axis' right end (axis units); ``legend``: (text, colour) pairs drawn below
    the axis label; ``separators``: a thin line above the bar of each of these indices;
    ``note``: text centred in the plot (e.g. "No cash spent")."""
    labels = [shorten(b.label) for b in bars]
    left = 10 + max((text_width(s) for s in labels), default=0.0) + 8
    left = min(left, WIDTH * 0.45)
    right = WIDTH - 16
    top = 24.0 if any(v.caption for v in vlines) else 10.0  # room for a line's caption
    plot_h = ROW * len(bars)
    x_max = x_max if x_max > 0 and math.isfinite(x_max) else 1.0

    def sx(v: float) -> float:
        return left + (right - left) * max(0.0, v) / x_max

    out: list[str] = []
    tick_values = nice_ticks(x_max) if ticks is None else list(ticks)
    for v in tick_values:  # grid and tick labels
        x = sx(v)
        out.append(
            f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{top + plot_h:.1f}" '
            f'stroke="{GRID}" stroke-width="0.8"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16:.1f}" text-anchor="middle" '
            f'font-size="11">{text(tick_format(v))}</text>'
        )
    for i, (bar, label) in enumerate(zip(bars, labels)):
        mid = top + ROW * (i + 0.5)
        out.append(
            f'<text x="{left - 8:.1f}" y="{mid + 4:.1f}" text-anchor="end" '
            f'font-size="{FONT:g}">{text(label)}</text>'
        )
        end = 0.0
        for s in bar.segments:
            h = ROW * s.height
            x0, x1 = sx(s.start), sx(s.start + s.width)
            stroke = f' stroke="{s.stroke}" stroke-width="1"' if s.stroke else ""
            out.append(
                f'<rect x="{x0:.1f}" y="{mid - h / 2:.1f}" width="{max(0.0, x1 - x0):.1f}" '
                f'height="{h:.1f}" fill="{s.fill}"{stroke}/>'
            )
            if s.inner and text_width(s.inner, 10) + 4 <= x1 - x0:
                out.append(
                    f'<text x="{(x0 + x1) / 2:.1f}" y="{mid + 3.5:.1f}" text-anchor="middle" '
                    f'font-size="10" fill="{s.inner_ink}">{text(s.inner)}</text>'
                )
            end = max(end, s.start + s.width)
        if bar.end_text:
            x = sx(bar.end_at if bar.end_at is not None else end) + 4
            out.append(
                f'<text x="{x:.1f}" y="{mid + 4:.1f}" font-size="11">{text(bar.end_text)}</text>'
            )
    for i in separators:
        y = top + ROW * i
        out.append(
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" '
            'stroke="#aaaaaa" stroke-width="0.8"/>'
        )
    for v in vlines:
        x = sx(v.x)
        dash = ' stroke-dasharray="5,3"' if v.dashed else ""
        out.append(
            f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{top + plot_h:.1f}" '
            f'stroke="{v.colour}" stroke-width="1.2"{dash}/>'
        )
        if v.caption:
            out.append(
                f'<text x="{x + 3:.1f}" y="{top - 4:.1f}" font-size="10" '
                f'fill="{v.colour}">{text(v.caption)}</text>'
            )
    out.append(  # the axes
        f'<path d="M{left:.1f},{top:.1f} V{top + plot_h:.1f} H{right:.1f}" fill="none" '
        f'stroke="{AXIS}" stroke-width="1"/>'
    )
    if note:
        out.append(
            f'<text x="{(left + right) / 2:.1f}" y="{top + plot_h / 2 + 4:.1f}" '
            f'text-anchor="middle" font-size="{FONT:g}">{text(note)}</text>'
        )
    y = top + plot_h + 36
    out.append(
        f'<text x="{(left + right) / 2:.1f}" y="{y:.1f}" text-anchor="middle" '
        f'font-size="{FONT:g}">{text(x_label)}</text>'
    )
    y += 10
    x, row_y = left, y
    for name, colour in legend:  # legend items left to right, wrapping
        item = 18 + text_width(shorten(name, 30), 11) + 16
        if x + item > right and x > left:
            x, row_y = left, row_y + 18
        out.append(
            f'<rect x="{x:.1f}" y="{row_y + 3:.1f}" width="12" height="12" fill="{colour}"/>'
        )
        out.append(
            f'<text x="{x + 17:.1f}" y="{row_y + 13:.1f}" font-size="11">'
            f"{text(shorten(name, 30))}</text>"
        )
        x += item
    height = (row_y + 24) if legend else (y + 4)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="{FONT_FAMILY}" fill="{TEXT}">'
        f'<rect width="100%" height="100%" fill="white"/>'
    )
    return (head + "".join(out) + "</svg>").encode("utf-8")
