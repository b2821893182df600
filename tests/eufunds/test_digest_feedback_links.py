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
from notifier.tokens import read_feedback_token, recipient_key
from tests.support.digest_runs import NEXT_WEEK, NOW, WEEK, message_id, recorded
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
        assert {c.recipient_key for c in claims} == {recipient_key(SECRET, digest.id, recipient)}
        assert all(recipient not in token for token in tokens)
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
        claims = {read_feedback_token(SECRET, t, NOW) for t in _links(late.message)}
        assert {(c.digest_id, c.recipient_key) for c in claims} == {
            (digest.id, recipient_key(SECRET, digest.id, recipient))
        }
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
    # Nobody got it: no message is kept, the next run builds it anew.
    rows = matched_store.digest_deliveries(digest.id)
    assert {d.status for d in rows} == {DeliveryStatus.FAILED}
    assert all(d.message is None for d in rows)
    smtp_server.handler.accept_only = None
    [second] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert second.status == DigestStatus.SENT
    assert Counter(a for r in smtp_server.received for a in r.rcpt_tos) == {
        r: 1 for r in department.recipients
    }


def test_a_quota_refusal_is_not_a_refused_address(matched_store, linked, smtp_server, tmp_path):
    """A 5xx answer to the message (Exchange's sending quota) is not about the addresses:
    those who waited get theirs from the next run."""
    department = _shared(linked)
    only = [department.id]
    smtp_server.handler.accept_only = 1
    smtp_server.handler.over_limit = "554 5.2.0 STOREDRV.Submission.Exception:QuotaExceeded"
    [first] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert first.status == DigestStatus.SENT and "not yet delivered to" in first.error
    smtp_server.handler.accept_only = None
    [second] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert second.status == DigestStatus.SENT
    received = Counter(a for r in smtp_server.received for a in r.rcpt_tos)
    assert received == {r: 1 for r in department.recipients}


def _crash_on_second_sent(store, monkeypatch):
    """Make the run stop (as a killed process would) right after the second recipient's
    message went out, before it is recorded as sent."""
    real = store.record_delivery
    sent = []

    def record(delivery):
        if delivery.status == DeliveryStatus.SENT:
            sent.append(delivery.recipient)
            if len(sent) == 2:
                raise KeyboardInterrupt("stopped")
        real(delivery)

    monkeypatch.setattr(store, "record_delivery", record)
    return lambda: monkeypatch.setattr(store, "record_delivery", real)


def test_a_run_that_stopped_mid_digest_never_resends_to_those_recorded(
    matched_store, linked, smtp_server, tmp_path, monkeypatch
):
    """Stopped after the second message: stuck (the second may have gone out) until
    released; the retry, even without the secret (no links), leaves out the first."""
    department = next(d for d in linked.departments if len(d.recipients) > 2)
    first, second, *rest = department.recipients
    only = [department.id]
    restore = _crash_on_second_sent(matched_store, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        _send(matched_store, linked, smtp_server, tmp_path, only)
    restore()
    [stuck] = _send(matched_store, linked, smtp_server, tmp_path, only)
    assert stuck.status == DigestStatus.STUCK
    assert matched_store.release_stuck_digest(department.id, WEEK, "retry asked")
    [retried] = send_digests(
        matched_store,
        linked,
        NOW,
        tmp_path,
        smtp_server.settings,
        department_ids=only,
        feedback_secret="",
    )
    assert retried.status == DigestStatus.SENT
    received = Counter(a for r in smtp_server.received for a in r.rcpt_tos)
    # The second was released by the coordinator's word that it had not gone out.
    assert received == {first: 1, second: 2, **{r: 1 for r in rest}}


def test_what_waits_at_the_end_of_the_week_goes_out_the_next(
    matched_store, linked, smtp_server, tmp_path
):
    department = _shared(linked)
    only = [department.id]
    smtp_server.handler.accept_only = 1
    _send(matched_store, linked, smtp_server, tmp_path, only)
    waiting = {
        d.recipient: d.message_id
        for d in matched_store.digest_deliveries(recorded(matched_store)[department.id].id)
        if d.status == DeliveryStatus.FAILED
    }
    smtp_server.handler.accept_only = None
    outcomes = send_digests(
        matched_store,
        linked,
        NEXT_WEEK,
        tmp_path,
        smtp_server.settings,
        department_ids=only,
        feedback_secret=SECRET,
    )
    assert outcomes[0].iso_week == WEEK and outcomes[0].status == DigestStatus.SENT
    late = [r for r in smtp_server.received if f".{WEEK}." in message_id(r.message)]
    assert {r.rcpt_tos[0]: message_id(r.message) for r in late[1:]} == waiting


def test_a_waiting_message_is_dropped_for_a_removed_recipient(
    matched_store, linked, smtp_server, tmp_path
):
    department = _shared(linked)
    only = [department.id]
    smtp_server.handler.accept_only = 1
    _send(matched_store, linked, smtp_server, tmp_path, only)
    smtp_server.handler.accept_only = None
    kept = replace(department, recipients=department.recipients[:1])
    fewer = replace(
        linked, departments=[kept if d.id == department.id else d for d in linked.departments]
    )
    [again] = _send(matched_store, fewer, smtp_server, tmp_path, only)
    assert again.status == DigestStatus.ALREADY_DONE
    assert len(smtp_server.received) == 1
    rows = matched_store.digest_deliveries(recorded(matched_store)[department.id].id)
    assert {d.status for d in rows if d.recipient != department.recipients[0]} == {
        DeliveryStatus.DROPPED
    }
