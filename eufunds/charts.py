"""Bar charts drawn by the server as SVG, for the statistics page and the report file.

Pure: labels and values in, markup out. A chart is readable without colour: every bar has
its label written above it and its value written beside it, a <title> of its own, and the
chart a title and a description listing every value (role="img" for screen readers). All
text is escaped, labels included (programme names come from scraped pages).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from markupsafe import Markup

WIDTH = 480
ROW = 42
TOP = 8
# Room kept right of the longest bar for its value ("61,5 % (8 av 13)").
VALUE_ROOM = 140
# About as many characters as fit the width at the font size.
LABEL_CHARACTERS = 60
FONT_SIZE = 14
BAR_COLOUR = "#1d3f6e"
TEXT_COLOUR = "#1a1a1a"


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[tuple[str, float, str]],
    scale: float | None = None,
) -> Markup:
    """A horizontal bar chart: one (label, value, value as text) per bar, lengths out of
    ``scale`` (None: the largest value). Negative values are drawn as nothing."""
    safe_id = re.sub(r"[^a-z0-9-]", "-", chart_id.lower()) or "chart"
    largest = scale or max((value for _, value, _ in bars), default=0) or 1
    room = WIDTH - VALUE_ROOM
    height = TOP + ROW * len(bars) + 8
    description = "; ".join(f"{label}: {text}" for label, _, text in bars)
    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" '
            'width="100%" role="img" aria-labelledby="{i}-title {i}-desc">'
            '<title id="{i}-title">{title}</title><desc id="{i}-desc">{desc}</desc>'
        ).format(w=WIDTH, h=height, i=safe_id, title=title, desc=description)
    ]
    for row, (label, value, text) in enumerate(bars):
        top = TOP + ROW * row
        length = max(0.0, min(value or 0, largest)) / largest * room
        shown = label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"
        parts.append(
            Markup(
                '<g class="bar"><title>{label}: {text}</title>'
                '<text x="0" y="{label_y}" font-size="{font}" fill="{ink}">{shown}</text>'
                '<rect x="0" y="{bar_y}" width="{length:.1f}" height="16" fill="{colour}" '
                'stroke="{ink}" stroke-width="0.5"/>'
                '<text x="{value_x:.1f}" y="{value_y}" font-size="{font}" font-weight="bold" '
                'fill="{ink}">{text}</text></g>'
            ).format(
                label=label,
                text=text,
                shown=shown,
                label_y=top + 14,
                font=FONT_SIZE,
                bar_y=top + 20,
                length=length,
                value_x=length + 6,
                value_y=top + 33,
                colour=BAR_COLOUR,
                ink=TEXT_COLOUR,
            )
        )
    parts.append(
        Markup('<line x1="0" y1="{t}" x2="0" y2="{b}" stroke="{ink}" stroke-width="1"/>').format(
            t=TOP + 18, b=height - 8, ink=TEXT_COLOUR
        )
    )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def charts_of(tables: Iterable) -> dict[str, Markup]:
    """The bar chart of each table that has one (its ``chart``: title, bars, scale), drawn,
    by the table's ``key``."""
    return {
        table.key: bar_chart(
            f"chart-{table.key}", table.chart.title, table.chart.bars, table.chart.scale
        )
        for table in tables
        if table.chart and table.chart.bars
    }
