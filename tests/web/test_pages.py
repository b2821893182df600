"""The pages both roles read, on week 34's real calls, matches and digests: full-text
search with filters, a call with its matches and history, sources, departments."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from html import unescape

from db import Store
from tests.conftest import SNAPSHOT_NOW
from tests.support.databases import upsert_one
from web.pages import flag_notes

CL5 = "ft_portal/HORIZON-CL5-2027-07-D3-16"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> "quoted" & more'


def _titles(html: str) -> list[str]:
    return re.findall(r'<td><a href="/utlysningar/[^"]+">([^<]+)</a></td>', html)


def test_full_text_search_finds_words_and_word_starts(management, site):
    """Search matches whole words and their starts in title, summary, identifier and
    programme, and counts what it found; every call shown holds the words."""
    html = management.get("/utlysningar?q=climate+adapt").get_data(as_text=True)
    titles = _titles(html)
    assert "Climate Change Adaptation" in titles
    with Store(site.db_path) as store:
        calls, total = store.search_calls("climate adapt", limit=1000)
    assert f"{total} utlysningar" in html and total == len(calls) >= len(titles) > 3
    for call in calls:
        text = " ".join(
            [call.title, call.summary, call.identifier, call.programme, call.call_title]
        )
        assert re.search(r"\bclimate", text, re.I) and re.search(r"\badapt", text, re.I)


def test_search_filters(management):
    """Programme, status, department and deadline filters narrow the list."""
    life = management.get(
        "/utlysningar?programme=Programme+for+the+Environment+and+Climate+Action+(LIFE)&status=open"
    ).get_data(as_text=True)
    assert _titles(life) and "Horizon Europe" not in life.split("<tbody>")[1]
    social = management.get("/utlysningar?department=social&to=2026-10-01").get_data(as_text=True)
    everything = management.get("/utlysningar?department=social").get_data(as_text=True)
    assert 0 < len(_titles(social)) < len(_titles(everything))
    assert management.get("/utlysningar?from=not-a-date").status_code == 400


def test_search_text_is_never_query_syntax(management):
    """Quotes, brackets and FTS5 operators in the search box are only text."""
    for query in ('"', "NEAR(", "climate OR", "*", "a:b", "')--"):
        assert management.get("/utlysningar", query_string={"q": query}).status_code == 200


def test_call_page_shows_matches_reasons_and_history(management, site, config):
    """A call's page: its fields, each department it matches with score and reasons, and
    its change history."""
    with Store(site.db_path) as store:
        call_id = store.matches("miljo-och-halsa", limit=1)[0].call_id
        matches = store.call_matches(call_id)
        call = store.get_call(call_id)
        moved = [call.deadlines[0] + timedelta(days=7)]
        upsert_one(store, replace(call, deadlines=moved), SNAPSHOT_NOW)
    html = management.get(f"/utlysningar/{call_id}").get_data(as_text=True)
    assert call.title in html and moved[0].date().isoformat() in html
    assert matches, "the call matches some department"
    labels = {rule.id: rule.label for rule in config.matching.eligibility_rules}
    text = unescape(html)
    for match in matches:
        assert f'href="/avdelningar/{match.department_id}"' in html
        assert match.terms[0][0] in text
        assert all(note in text for note in flag_notes(match.flags, labels))
    assert any(match.flags for match in matches)
    assert "deadlines" in html.split("Ändringar")[1]
    assert management.get("/utlysningar/ft_portal/NOPE").status_code == 404


def test_hostile_call_text_is_rendered_harmless(management, site):
    """A title and summary full of markup are shown as text, never as markup."""
    with Store(site.db_path) as store:
        call = store.get_call(CL5)
        upsert_one(
            store,
            replace(call, title=HOSTILE, summary=HOSTILE, url="javascript:alert(1)"),
            SNAPSHOT_NOW,
        )
    for path in (f"/utlysningar/{CL5}", "/utlysningar?q=alert", "/avdelningar/energibolag"):
        html = management.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert 'href="javascript:' not in html
    page = management.get(f"/utlysningar/{CL5}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_sources_page_shows_each_sources_health(management, config):
    """Each enabled source with its last success and problem; the replayed portal crawled."""
    html = management.get("/kallor").get_data(as_text=True)
    for source in config.sources:
        if source.enabled:
            assert source.name.replace("&", "&amp;") in html
    portal = html.split("EU Funding &amp; Tenders Portal")[1].split("</tr>")[0]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", portal) and "<td>723</td>" in portal


def test_department_page_lists_matches_and_digests(management, site):
    """A department's current matches, best first, and week 34's digest with its calls."""
    html = management.get("/avdelningar/social").get_data(as_text=True)
    with Store(site.db_path) as store:
        best = store.matches("social", limit=1)[0]
        [digest] = store.department_digests("social")
        items = store.digest_call_ids(digest.id)
    assert html.index(best.call_id.replace("&", "&amp;")) < html.index("Senaste utskick")
    assert f"Vecka {digest.iso_week}: {digest.status}, {len(items)} utlysningar" in html
    assert management.get("/avdelningar/nope").status_code == 404
