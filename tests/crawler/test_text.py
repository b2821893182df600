"""Source HTML to clean text."""

from __future__ import annotations

from crawler.text import clean_inline, html_to_text

# html_to_text ----------------------------------------------------------------------


def test_html_to_text_drops_scripts():
    """Script and style contents are dropped, surrounding text kept."""
    markup = "<p>Before</p><script>alert('x')</script><style>p {}</style><p>After</p>"
    assert html_to_text(markup) == "Before\n\nAfter"


def test_html_to_text_decodes_entities():
    """Entities are decoded and a non-breaking space becomes a space."""
    assert html_to_text("<p>Research &amp; Innovation&nbsp;Actions &#8211; RIA</p>") == (
        "Research & Innovation Actions \u2013 RIA"
    )


def test_html_to_text_list_items():
    """List items become dashed lines."""
    assert html_to_text("<p>Outcomes:</p><ul><li>one</li><li>two</li></ul>") == (
        "Outcomes:\n\n- one\n- two"
    )


def test_html_to_text_truncated_markup():
    """Markup cut off inside a tag keeps the text before it."""
    assert html_to_text('<p>Soil Strategy and the <a href="https://environme') == (
        "Soil Strategy and the"
    )


def test_html_to_text_plain_text():
    """Text without tags is only unescaped and tidied."""
    assert html_to_text("  A &lt;b&gt;  plain\u00a0text ") == "A <b> plain text"


def test_html_to_text_empty():
    """Empty or blank input gives an empty string."""
    assert [html_to_text(None), html_to_text(""), html_to_text("  ")] == ["", "", ""]


def test_bidirectional_controls_are_dropped_from_source_text():
    """A right-to-left override (or any bidi control) in a title or description is dropped."""
    assert clean_inline("Grants \u202efor\u2066 towns\u200f") == "Grants for towns"
    assert html_to_text("<p>Apply \u202enow</p><p>\u2067later</p>") == "Apply now\n\nlater"
