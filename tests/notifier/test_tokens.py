"""Feedback tokens: they say what they were made to say, and nothing else gets through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifier.tokens import TOKEN_LIFETIME, TokenError, feedback_token, read_feedback_token

SECRET = "a-secret-key-long-enough-for-the-tests-0123456789"
NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
CALL = "ft_portal/CERV-2026-CITIZENS-TOWN-TT"


def test_a_token_says_what_it_was_made_to_say():
    token = feedback_token(SECRET, 7, CALL, "social.eu@example.org", "apply", NOW)
    claim = read_feedback_token(SECRET, token, NOW + timedelta(days=59))
    assert (claim.digest_id, claim.call_id, claim.recipient, claim.verdict) == (
        7,
        CALL,
        "social.eu@example.org",
        "apply",
    )


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
