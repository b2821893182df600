"""Feedback tokens: they say what they were made to say, and nothing else gets through."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from notifier import tokens
from notifier.tokens import (
    TOKEN_LIFETIME,
    TokenError,
    claimed_recipient,
    feedback_token,
    read_feedback_token,
    recipient_key,
)

SECRET = "a-secret-key-long-enough-for-the-tests-0123456789"
NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
CALL = "ft_portal/CERV-2026-CITIZENS-TOWN-TT"


def test_a_token_says_what_it_was_made_to_say():
    token = feedback_token(SECRET, 7, CALL, "social.eu@example.org", "apply", NOW)
    claim = read_feedback_token(SECRET, token, NOW + timedelta(days=59))
    assert (claim.digest_id, claim.call_id, claim.verdict) == (7, CALL, "apply")
    recipients = ["other@example.org", "social.eu@example.org"]
    assert claimed_recipient(SECRET, claim, recipients) == "social.eu@example.org"
    assert claimed_recipient(SECRET, claim, ["other@example.org"]) is None
    # Another secret's keys match nothing: only the app that made the link can tell whose.
    assert (
        claimed_recipient("another-secret-of-enough-length-0123456789", claim, recipients) is None
    )


def test_a_token_does_not_carry_the_address():
    """Links end up in proxy and browser logs: the address is in none of the token's parts,
    neither as text nor as base64."""
    address = "social.eu@example.org"
    token = feedback_token(SECRET, 7, CALL, address, "apply", NOW)
    body = token.split(".")[0]
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    assert address not in token and "social.eu" not in payload and "example.org" not in payload
    assert recipient_key(SECRET, 7, address) in payload
    # Another digest's links name the same reader differently.
    assert recipient_key(SECRET, 8, address) != recipient_key(SECRET, 7, address)
    other = read_feedback_token(SECRET, feedback_token(SECRET, 8, CALL, address, "apply", NOW), NOW)
    assert claimed_recipient(SECRET, other, [address]) == address


def test_a_version_1_token_with_the_address_is_still_read():
    """Links mailed before tokens hid the address work for the rest of their 60 days, for
    a recipient the digest had. (Hand-made here in the old format: a signed JSON list of
    digest, call, address, verdict and time.)"""
    payload = json.dumps([7, CALL, "social.eu@example.org", "relevant", int(NOW.timestamp())])
    data = payload.encode()
    token = f"{tokens._encode(data)}.{tokens._encode(tokens._signature(SECRET, data))}"
    claim = read_feedback_token(SECRET, token, NOW + timedelta(days=30))
    assert (claim.digest_id, claim.recipient, claim.verdict) == (
        7,
        "social.eu@example.org",
        "relevant",
    )
    assert claimed_recipient(SECRET, claim, ["social.eu@example.org"]) == "social.eu@example.org"
    assert claimed_recipient(SECRET, claim, ["other@example.org"]) is None


@pytest.mark.parametrize(
    ("mangle", "said"),
    [
        (lambda t: t.replace(t[3], "A" if t[3] != "A" else "B", 1), "har ändrats"),
        (lambda t: t + "x", "har ändrats"),
        (lambda t: t.split(".")[0], "inte hel"),
        (lambda t: "%%%." + t.split(".")[1], "inte hel"),
        (
            lambda t: feedback_token("another-secret", 7, CALL, "x@example.org", "apply", NOW),
            "har ändrats",
        ),
    ],
)
def test_altered_or_forged_tokens_are_refused(mangle, said):
    token = feedback_token(SECRET, 7, CALL, "social.eu@example.org", "relevant", NOW)
    with pytest.raises(TokenError, match=said):
        read_feedback_token(SECRET, mangle(token), NOW)


def test_a_token_expires():
    token = feedback_token(SECRET, 7, CALL, "social.eu@example.org", "relevant", NOW)
    with pytest.raises(TokenError, match="gått ut"):
        read_feedback_token(SECRET, token, NOW + TOKEN_LIFETIME + timedelta(minutes=1))
