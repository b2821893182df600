"""Items that spiders yield and pipelines normalise, validate and store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class CallItem:
    """A call as one source listed it, before normalisation."""

    source_id: str
    identifier: str
    title: str
    reference: str = ""
    kind: str = ""
    url: str = ""
    call_identifier: str = ""
    call_title: str = ""
    description_html: str = ""
    programme: str = ""
    programme_divisions: list[str] = field(default_factory=list)
    type_of_action: str = ""
    status: str = ""
    opening_date: datetime | None = None
    deadlines: list[datetime] = field(default_factory=list)
    budget_eur: int | None = None
    expected_grants: int | None = None
    language: str = "en"
    raw: dict = field(default_factory=dict)
