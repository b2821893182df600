"""Bar charts as SVG: well-formed, labelled in words (not colour), escaped, to scale."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from eufunds.charts import LABEL_CHARACTERS, WIDTH, bar_chart, charts_of

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script>&<b onmouseover="y">Horizon</b>'


def _parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def test_every_bar_has_its_label_value_and_title_in_words():
    """The chart is an image with a title and a description listing every value; each bar
    writes its label and value as text and has a title of its own."""
    bars = [("Socialförvaltningen", 19, "19"), ("Räddningstjänsten", 23, "23")]
    svg = _parse(bar_chart("chart-matchningar", "Matchningar per förvaltning", bars))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-matchningar-title chart-matchningar-desc"
    assert svg.find(f"{SVG}title").text == "Matchningar per förvaltning"
    assert svg.find(f"{SVG}desc").text == "Socialförvaltningen: 19; Räddningstjänsten: 23"
    groups = svg.findall(f"{SVG}g")
    assert [g.find(f"{SVG}title").text for g in groups] == [
        "Socialförvaltningen: 19",
        "Räddningstjänsten: 23",
    ]
    assert [[t.text for t in g.findall(f"{SVG}text")] for g in groups] == [
        ["Socialförvaltningen", "19"],
        ["Räddningstjänsten", "23"],
    ]


def test_bars_are_to_scale_and_leave_room_for_their_values():
    """The longest bar (or the given scale) fills the room left of the values; a zero is
    no bar; a value beyond the scale stops at it."""
    svg = _parse(bar_chart("c", "t", [("a", 10, "10"), ("b", 5, "5"), ("c", 0, "0")]))
    widths = [float(rect.get("width")) for rect in svg.iter(f"{SVG}rect")]
    assert widths[0] == WIDTH - 140 and widths[1] == widths[0] / 2 and widths[2] == 0
    shares = _parse(bar_chart("s", "t", [("a", 50, "50 %"), ("b", 120, "120 %")], scale=100))
    a, b = (float(rect.get("width")) for rect in shares.iter(f"{SVG}rect"))
    assert a == (WIDTH - 140) / 2 and b == WIDTH - 140
    value_x = [float(t.get("x")) for t in shares.iter(f"{SVG}text") if t.text.endswith("%")]
    assert value_x == [a + 6, b + 6]


def test_hostile_labels_are_text_and_long_ones_shortened():
    """Markup in labels, titles and values is escaped (the SVG parses, no element from
    it); a label longer than the room is cut with an ellipsis, whole in its title."""
    long_label = "Programme " * 8
    markup = str(
        bar_chart('x" onload="alert(1)', HOSTILE, [(HOSTILE, 3, HOSTILE), (long_label, 1, "1")])
    )
    assert "<script>" not in markup and "<b " not in markup and 'onload="' not in markup
    assert "&lt;script&gt;" in markup
    svg = _parse(markup)
    assert svg.find(f"{SVG}title").text == HOSTILE
    assert {element.tag.removeprefix(SVG) for element in svg.iter()} == {
        "svg",
        "title",
        "desc",
        "g",
        "text",
        "rect",
        "line",
    }
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts[0] == HOSTILE and texts[1] == HOSTILE
    shortened = texts[2]
    assert len(shortened) == LABEL_CHARACTERS and shortened.endswith("…")
    assert svg.findall(f"{SVG}g")[1].find(f"{SVG}title").text == f"{long_label}: 1"


def test_charts_of_draws_only_tables_with_bars():
    """Tables without a chart, or with no bars, get none."""

    class Chart:
        title, bars, scale = "Titel", (("a", 1, "1"),), None

    class Table:
        def __init__(self, key, chart):
            self.key, self.chart = key, chart

    class Empty(Chart):
        bars = ()

    drawn = charts_of([Table("a", Chart()), Table("b", None), Table("c", Empty())])
    assert list(drawn) == ["a"] and 'id="chart-a-title"' in str(drawn["a"])
