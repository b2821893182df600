"""Staff feedback from digest links, through Flask's test client on week 34's recorded
digests: one click records, a second changes nothing, a comment can follow; altered,
forged and expired links get a friendly page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from db import Store
from db.records import DigestStatus
from notifier.tokens import feedback_token
from tests.conftest import SNAPSHOT_NOW
from tests.support.digest_runs import recorded
from tests.web.conftest import SECRET, click_feedback

RECIPIENT = "social.eu@example.org"


@pytest.fixture
def sent(site):
    """Social's week-34 digest and one call in it."""
    with Store(site.db_path) as store:
        digest = recorded(store)["social"]
        call_id = store.digest_call_ids(digest.id)[0][0]
    return digest, call_id


def _link(
    digest, call_id, verdict="relevant", made=SNAPSHOT_NOW, secret=SECRET, recipient=RECIPIENT
):
    return f"/aterkoppling/{feedback_token(secret, digest.id, call_id, recipient, verdict, made)}"


def test_one_click_records_and_a_second_changes_nothing(site, sent):
    digest, call_id = sent
    client = site.app.test_client()
    first = click_feedback(client, _link(digest, call_id))
    assert first.status_code == 200 and "Tack!" in first.get_data(as_text=True)
    with Store(site.db_path) as store:
        [given] = store.feedback("social")
    assert (given.call_id, given.recipient, given.verdict) == (call_id, RECIPIENT, "relevant")
    assert click_feedback(client, _link(digest, call_id)).status_code == 200
    with Store(site.db_path) as store:
        assert store.feedback("social") == [given]
    assert click_feedback(client, _link(digest, call_id, "apply")).status_code == 200
    with Store(site.db_path) as store:
        [changed] = store.feedback("social")
    assert changed.verdict == "apply"


def test_opening_a_link_records_nothing_until_the_page_posts_it(site, sent):
    """Mail systems fetch every link of a message to check it, some running its scripts: a
    GET only shows the page whose button posts the verdict (no script), so all three links
    fetched record nothing; a comment before the verdict is refused."""
    digest, call_id = sent
    client = site.app.test_client()
    for verdict in ("relevant", "not-relevant", "apply"):
        page = client.get(_link(digest, call_id, verdict))
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and 'id="feedback-confirm"' in html
        assert "Skicka svaret</button>" in html and "<script" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    early = client.post(_link(digest, call_id), data={"comment": "x", "csrf_token": token})
    assert early.status_code == 400
    with Store(site.db_path) as store:
        assert store.feedback() == [] and store.applications() == []


def test_a_comment_can_follow(site, sent):
    digest, call_id = sent
    client = site.app.test_client()
    page = click_feedback(client, _link(digest, call_id, "not-relevant")).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert (
        client.post(
            _link(digest, call_id, "not-relevant"), data={"comment": "Fel region."}
        ).status_code
        == 400
    )
    done = client.post(
        _link(digest, call_id, "not-relevant"), data={"comment": "Fel region.", "csrf_token": token}
    )
    assert "Tack för kommentaren!" in done.get_data(as_text=True)
    with Store(site.db_path) as store:
        [given] = store.feedback("social")
    assert (given.verdict, given.comment) == ("not-relevant", "Fel region.")


def test_bad_links_get_a_friendly_page(site, sent):
    digest, call_id = sent
    client = site.app.test_client()
    good = _link(digest, call_id)
    for link, said in (
        (good[:-3] + "abc", "har ändrats"),
        (_link(digest, call_id, secret="another-secret-key-0123456789-abcdefgh"), "har ändrats"),
        (_link(digest, call_id, made=SNAPSHOT_NOW - timedelta(days=61)), "gått ut"),
        (_link(digest, "ft_portal/NOPE"), "inte på något vi känner till"),
        (_link(digest, call_id, verdict="<script>"), "inte på något vi känner till"),
        # Signed by us, but for an address the digest was never for.
        (_link(digest, call_id, recipient="someone@example.org"), "inte på något vi känner till"),
    ):
        response = client.get(link)
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "Länken fungerar inte" in text and said in text and "<script>" not in text
    with Store(site.db_path) as store:
        assert store.feedback() == []


def test_coordinator_sees_feedback_per_department(site, sent, coordinator, management):
    """The coordinator's page counts each department's verdicts and lists each with its
    call, recipient and comment; management may not see it."""
    digest, call_id = sent
    staff = site.app.test_client()
    page = click_feedback(staff, _link(digest, call_id, "apply")).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    staff.post(
        _link(digest, call_id, "apply"), data={"comment": "<b>Vi söker!</b>", "csrf_token": token}
    )
    html = coordinator.get("/aterkoppling").get_data(as_text=True)
    social = html.split("Socialförvaltningen</td>")[1].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", social) == ["0", "0", "1"]
    assert RECIPIENT in html and "&lt;b&gt;Vi söker!&lt;/b&gt;" in html
    assert management.get("/aterkoppling").status_code == 403


def test_feedback_suggests_profile_words_to_try_in_the_preview(site, coordinator):
    """Three calls of social's week-34 digest marked relevant: the feedback page
    suggests words they share that the profile lacks, each opening the profile with the word
    added and the preview of what it would do."""
    with Store(site.db_path) as store:
        digest = recorded(store)["social"]
        ids = [call_id for call_id, _ in store.digest_call_ids(digest.id)][:3]
    client = site.app.test_client()
    for call_id in ids:
        assert click_feedback(client, _link(digest, call_id, "relevant")).status_code == 200
    html = coordinator.get("/aterkoppling").get_data(as_text=True)
    links = re.findall(r'href="(/profiler/social\?lagg_till=[^"]+)">([^<]+)</a>', html)
    assert links
    path, word = links[0]
    page = coordinator.get(path.replace("&amp;", "&")).get_data(as_text=True)
    assert f"{word} = 1" in page
    assert f"{word}: " in page.split("Nyckelord bland")[1]


def test_the_coordinator_counts_as_the_statistics_do(site, coordinator):
    """A call judged again in a later digest counts once, by its newest word, on the page
    as in the statistics; and one call marked relevant by two readers is one call, not the
    two a suggested word needs."""
    chef = "social.chef@example.org"
    with Store(site.db_path) as store:
        digest = recorded(store)["social"]
        first, second = [call_id for call_id, _ in store.digest_call_ids(digest.id)][:2]
        later = store.claim_digest("social", "2026-W35", [RECIPIENT, chef], SNAPSHOT_NOW)
        items = [(first, ("new",)), (second, ("new",))]
        store.finish_digest(later, DigestStatus.SENT, items, sent_at=SNAPSHOT_NOW)
        later_digest = store.digest_by_id(later)
    client = site.app.test_client()
    for link in (
        _link(digest, first, "relevant"),
        _link(later_digest, first, "not-relevant"),
        _link(later_digest, second, "relevant"),
        _link(later_digest, second, "relevant", recipient=chef),
    ):
        assert click_feedback(client, link).status_code == 200
    html = coordinator.get("/aterkoppling").get_data(as_text=True)
    social = html.split("Socialförvaltningen</td>")[1].split("</tr>")[0]
    # Relevant: the second call by two readers; not relevant: the first, judged again.
    assert re.findall(r"<td>(\d+)</td>", social) == ["2", "1", "0"]
    with Store(site.db_path) as store:
        counts = store.feedback_counts(None, None)
    assert (counts[("social", "relevant")], counts[("social", "not-relevant")]) == (2, 1)
    assert 'href="/profiler/social?lagg_till=' not in html
