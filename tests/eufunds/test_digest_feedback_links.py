"""Digests with one-click feedback links: with the web app's address and secret, each
recipient gets a message of their own whose links name them, the digest and the call; a
message that fails for one recipient after others had theirs is kept and sent as it was,
never again to the others. Each test writes on its own copy of the matched snapshot."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import pytest

from db.records import DeliveryStatus, DigestStatus
from eufunds.digests import send_digests
from notifier.send import read_outbox
from notifier.tokens import read_feedback_token
from tests.support.digest_runs import NOW, WEEK, message_id, recorded
from tests.support.mail import html_part, text_part

SECRET = "digest-link-secret-long-enough-0123456789"
WEB = "https://eu.jonkoping.example"
VERDICTS = ("relevant", "not-relevant", "apply")


@pytest.fixture
def linked(config):
    """The configuration with the web app's address (links need it)."""
    return replace(config, organisation=replace(config.organisation, web_url=WEB + "/"))


def _shared(linked):
    """A department with more than one recipient."""
    return next(d for d in linked.departments if len(d.recipients) > 1)


def _send(store, linked, server, outbox, only):
    """One run by SMTP for these departments, links signed with the test secret."""
    return send_digests(
        store, linked, NOW, outbox, server.settings, department_ids=only, feedback_secret=SECRET
    )


def _links(message) -> list[str]:
    return re.findall(re.escape(WEB) + r"/aterkoppling/([A-Za-z0-9_\-.]+)", text_part(message))


def test_each_recipient_gets_their_own_message_with_their_links(matched_store, linked, tmp_path):
    department = _shared(linked)
    outcomes = send_digests(
        matched_store,
        linked,
        NOW,
        tmp_path,
        None,
        department_ids=[department.id],
        feedback_secret=SECRET,
    )
    assert [o.status for o in outcomes] == [DigestStatus.WRITTEN]
    digest = recorded(matched_store)[department.id]
    shown = {call_id for call_id, _ in matched_store.digest_call_ids(digest.id)}
    assert shown
    ids = set()
    for recipient in department.recipients:
        files = list(tmp_path.glob(f"{WEEK}-{department.id}-*.eml"))
        assert len(files) == len(department.recipients)
        [path] = [f for f in files if read_outbox(f)["To"] == recipient]
        message = read_outbox(path)
        ids.add(message_id(message))
        tokens = _links(message)
        assert len(tokens) == 3 * len(shown)
        claims = [read_feedback_token(SECRET, token, NOW) for token in tokens]
        assert {c.recipient for c in claims} == {recipient}
        assert {c.digest_id for c in claims} == {digest.id}
        assert {c.call_id for c in claims} == shown
        assert Counter(c.verdict for c in claims) == {v: len(shown) for v in VERDICTS}
        assert "Vi vill söka" in html_part(message)
    assert len(ids) == len(department.recipients)
    deliveries = matched_store.digest_deliveries(digest.id)
    assert {(d.recipient, d.status) for d in deliveries} == {
        (r, DeliveryStatus.SENT) for r in department.recipients
    }
    assert all(d.message is None for d in deliveries)


def test_without_the_secret_or_address_one_message_goes_to_all(matched_store, linked, tmp_path):
    department = _shared(linked)
    send_digests(
        matched_store,
        linked,
        NOW,
        tmp_path / "a",
        None,
        department_ids=[department.id],
        feedback_secret="",
    )
    [path] = (tmp_path / "a").glob("*.eml")
    assert path.name == f"{WEEK}-{department.id}.eml"
    assert _links(read_outbox(path)) == []
    assert "/aterkoppling/" not in text_part(read_outbox(path))


def test_dry_run_has_no_links(matched_store, linked, tmp_path):
    """A dry run's digest is recorded nowhere: links would point at nothing."""
    department = _shared(linked)
    send_digests(
        matched_store,
        linked,
        NOW,
        tmp_path,
        None,
        dry_run=True,
        department_ids=[department.id],
        feedback_secret=SECRET,
    )
    [path] = tmp_path.glob("*.eml")
    assert path.name.startswith("preview-") and _links(read_outbox(path)) == []


def test_a_failure_after_others_had_theirs_is_sent_as_it_was(
    matched_store, linked, smtp_server, tmp_path
):
    """The server takes one message, then answers 451: the first recipient has theirs, the
    rest wait with their messages kept; the next run sends those, byte for byte the same
    digest (Message-ID, links), and a third run sends nothing."""
    department = _shared(linked)
    only = [department.id]
    smtp_server.handler.accept_only = 1
    [first] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert first.status == DigestStatus.SENT
    assert "not yet delivered to" in first.error
    digest = recorded(matched_store)[department.id]
    assert digest.status == DigestStatus.SENT and digest.item_count > 0
    waiting = [
        d for d in matched_store.digest_deliveries(digest.id) if d.status == DeliveryStatus.FAILED
    ]
    assert len(waiting) == len(department.recipients) - 1 and all(d.message for d in waiting)
    kept = {d.recipient: d.message_id for d in waiting}

    smtp_server.handler.accept_only = None
    [second] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert second.status == DigestStatus.SENT and "sent now to" in second.error
    [third] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert third.status == DigestStatus.ALREADY_DONE
    received = Counter(a for r in smtp_server.received for a in r.rcpt_tos)
    assert received == {r: 1 for r in department.recipients}
    for late in smtp_server.received[1:]:
        [recipient] = late.rcpt_tos
        assert message_id(late.message) == kept[recipient]
        claims = {read_feedback_token(SECRET, t, NOW).recipient for t in _links(late.message)}
        assert claims == {recipient}
    assert all(
        d.status == DeliveryStatus.SENT and d.message is None
        for d in matched_store.digest_deliveries(digest.id)
    )
    # The digest's items were recorded once, when it first went out.
    assert recorded(matched_store)[department.id].item_count == digest.item_count


def test_a_refused_address_is_noted_and_never_tried_again(
    matched_store, linked, smtp_server, tmp_path
):
    department = _shared(linked)
    only = [department.id]
    bad = department.recipients[-1]
    smtp_server.handler.refused_recipients = {bad}
    [first] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert first.status == DigestStatus.SENT and bad in first.error
    smtp_server.handler.refused_recipients = set()
    [second] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert second.status == DigestStatus.ALREADY_DONE
    assert bad not in {a for r in smtp_server.received for a in r.rcpt_tos}
    statuses = {
        d.recipient: d.status
        for d in matched_store.digest_deliveries(recorded(matched_store)[department.id].id)
    }
    assert statuses[bad] == DeliveryStatus.REFUSED


def test_nobody_reached_is_failed_and_rebuilt_next_run(
    matched_store, linked, smtp_server, tmp_path
):
    department = _shared(linked)
    only = [department.id]
    smtp_server.handler.accept_only = 0
    [first] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert first.status == DigestStatus.FAILED and "451" in first.error
    digest = recorded(matched_store)[department.id]
    assert matched_store.digest_deliveries(digest.id) == []
    smtp_server.handler.accept_only = None
    [second] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert second.status == DigestStatus.SENT
    assert Counter(a for r in smtp_server.received for a in r.rcpt_tos) == {
        r: 1 for r in department.recipients
    }
