"""Signed, expiring feedback tokens for digest links: which digest, call, recipient and
verdict, and when it was made; an HMAC-SHA256 over that with the app's secret key. Pure:
the secret and ``now`` are parameters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

# How long a digest's feedback links work.
TOKEN_LIFETIME = timedelta(days=60)
PURPOSE = b"eufunds-feedback-v1"


class TokenError(Exception):
    """A token that is not ours, was altered, or has expired (the message says which)."""


@dataclass(frozen=True)
class FeedbackClaim:
    """What a feedback token says."""

    digest_id: int
    call_id: str
    recipient: str
    verdict: str
    made: datetime


def feedback_token(
    secret: str, digest_id: int, call_id: str, recipient: str, verdict: str, now: datetime
) -> str:
    """A token for one recipient's verdict on one call of one digest."""
    payload = json.dumps(
        [digest_id, call_id, recipient, verdict, int(now.timestamp())], separators=(",", ":")
    ).encode()
    return f"{_encode(payload)}.{_encode(_signature(secret, payload))}"


def read_feedback_token(secret: str, token: str, now: datetime) -> FeedbackClaim:
    """What a token says; TokenError when it is forged or altered, or older than
    TOKEN_LIFETIME."""
    try:
        body, signature = token.split(".")
        payload = _decode(body)
        given = _decode(signature)
    except ValueError:
        raise TokenError("länken är inte hel") from None
    if not hmac.compare_digest(given, _signature(secret, payload)):
        raise TokenError("länken kommer inte från oss eller har ändrats")
    try:
        digest_id, call_id, recipient, verdict, made = json.loads(payload)
        when = datetime.fromtimestamp(int(made), tz=now.tzinfo)
    except (ValueError, TypeError):
        raise TokenError("länken kan inte läsas") from None
    if now - when > TOKEN_LIFETIME:
        raise TokenError("länken har gått ut")
    return FeedbackClaim(int(digest_id), str(call_id), str(recipient), str(verdict), when)


def _signature(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), PURPOSE + b"\x00" + payload, hashlib.sha256).digest()


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    except (ValueError, UnicodeEncodeError):
        raise ValueError("not base64") from None
