"""Helpers of the digest tests: the snapshot's week, and what a run sent and recorded."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from email.message import EmailMessage

from db import Store
from db.records import Digest
from eufunds.config import Config
from eufunds.digests import DigestOutcome
from tests.conftest import SNAPSHOT_NOW
from tests.support.databases import digest_items, digests
from tests.support.smtp import Received

NOW = SNAPSHOT_NOW  # a Saturday
WEEK = "2026-W34"
NEXT_WEEK = NOW + timedelta(days=7)
DEPARTMENTS = 13


def by_department(received: list[Received], config: Config) -> dict[str, list[Received]]:
    """Received messages grouped by the department whose recipients they went to."""
    owners = {tuple(d.recipients): d.id for d in config.departments}
    grouped: dict[str, list[Received]] = {}
    for message in received:
        grouped.setdefault(owners[message.rcpt_tos], []).append(message)
    return grouped


def recorded(store: Store, week: str = WEEK) -> dict[str, Digest]:
    """The recorded digest of each department for a week."""
    return {d.department_id: d for d in digests(store, week)}


def statuses(outcomes: list[DigestOutcome]) -> Counter:
    """How many digests of a run ended in each status."""
    return Counter(o.status for o in outcomes)


def sent_items(store: Store, week: str) -> dict[str, dict[str, str]]:
    """Call ids and reasons of each department's digest of a week."""
    return {d.department_id: dict(digest_items(store, d.id)) for d in digests(store, week)}


def message_id(message: EmailMessage) -> str:
    """The Message-ID without the folding space Python's parser keeps when it was folded."""
    return message["Message-ID"].strip()
