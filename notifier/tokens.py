"""Signed, expiring feedback tokens for digest links: which digest, call, recipient and
verdict, and when it was made; an HMAC-SHA256 over that with the app's secret key. Pure:
the secret and ``now`` are parameters.

Links end up in proxy and browser logs, so a token does not carry the recipient's address:
it carries a keyed hash of it (``recipient_key``), which only the secret's holder can match
with the digest's recipients (``claimed_recipient``). Tokens made before that (version 1,
with the address) are read for the rest of their lifetime.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# How long a digest's feedback links work.
TOKEN_LIFETIME = timedelta(days=60)
PURPOSE = b"eufunds-feedback-v1"
RECIPIENT_PURPOSE = b"eufunds-feedback-recipient"
# The version of the tokens made now (the first element of their payload); version 1 tokens
# have no version element and carry the address itself.
VERSION = 2


class TokenError(Exception):
    """A token that is not ours, was altered, or has expired (the message says which)."""


@dataclass(frozen=True)
class FeedbackClaim:
    """What a feedback token says: ``recipient_key`` names the recipient (a version 1 token
    names them by address, in ``recipient``)."""

    digest_id: int
    call_id: str
    recipient_key: str
    verdict: str
    made: datetime
    recipient: str = ""


def recipient_key(secret: str, digest_id: int, recipient: str) -> str:
    """A recipient's name in the tokens of one digest: a keyed hash of the digest and the
    address (16 characters; another digest's links name the same reader differently, so
    logs cannot tie one reader's clicks together)."""
    message = b"\x00".join([RECIPIENT_PURPOSE, str(digest_id).encode(), recipient.encode()])
    return _encode(hmac.new(secret.encode(), message, "sha256").digest()[:12])


def claimed_recipient(secret: str, claim: FeedbackClaim, recipients: Iterable[str]) -> str | None:
    """The address among ``recipients`` the claim was made for; None when none is."""
    if claim.recipient:
        return claim.recipient if claim.recipient in recipients else None
    return next(
        (
            address
            for address in recipients
            if hmac.compare_digest(
                recipient_key(secret, claim.digest_id, address), claim.recipient_key
            )
        ),
        None,
    )


def feedback_token(
    secret: str, digest_id: int, call_id: str, recipient: str, verdict: str, now: datetime
) -> str:
    """A token for one recipient's verdict on one call of one digest."""
    key = recipient_key(secret, digest_id, recipient)
    payload = json.dumps(
        [VERSION, digest_id, call_id, key, verdict, int(now.timestamp())], separators=(",", ":")
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
        fields = json.loads(payload)
        if len(fields) == 6 and fields[0] == VERSION:
            _, digest_id, call_id, key, verdict, made = fields
            address = ""
        else:  # version 1: the address itself
            digest_id, call_id, address, verdict, made = fields
            key = ""
        when = datetime.fromtimestamp(int(made), tz=now.tzinfo)
    except (ValueError, TypeError):
        raise TokenError("länken kan inte läsas") from None
    if now - when > TOKEN_LIFETIME:
        raise TokenError("länken har gått ut")
    return FeedbackClaim(int(digest_id), str(call_id), str(key), str(verdict), when, str(address))


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
