"""Items that spiders yield and pipelines normalise, validate and store."""

from __future__ import annotations

from dataclasses import dataclass, field

from db.records import Call


@dataclass
class CallItem:
    """A call as one source listed it, before normalisation: the call's fields as the source
    gave them (text not yet cleaned, no stable id yet), its description as HTML, the
    source's own reference, the source's raw answer, and the fields the source gave in a
    form that could not be read (left empty in ``call``; the store keeps what it had)."""

    call: Call
    reference: str = ""
    description_html: str = ""
    raw: dict = field(default_factory=dict)
    unreadable: tuple[str, ...] = ()
