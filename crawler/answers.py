"""Reading a source's answer as JSON: a clear error when it is not, a repair when it is almost.

A real answer of the portal held JSON with invalid escapes (``\\<`` inside embedded HTML,
re-serialised by some tool); such an answer is read with those backslashes dropped, and the
repair is noted on the run.
"""

from __future__ import annotations

import json
import re
from typing import Any

from crawler.report import CrawlReport

JSON_NAMES = {dict: "object", list: "array", str: "string", int: "number", float: "number"}
# A backslash that starts no JSON escape (\" \\ \/ \b \f \n \r \t \uXXXX).
_INVALID_ESCAPE = re.compile(rb'\\(?=[^"\\/bfnrtu])')


def load_json(
    body: bytes, content_type: str, what: str, report: CrawlReport, expect: type | tuple = dict
) -> Any | None:
    """The decoded answer, or None with an error on the run naming what came instead."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        document = _repaired(body, what, report) if "escape" in str(exc) else None
        if document is None:
            start = body[:60].decode("utf-8", "replace").strip()
            kind = "HTML" if start.lower().startswith(("<!doctype html", "<html")) else "no JSON"
            report.error(
                f"{what}: expected JSON, got {kind} ({content_type or 'no content type'}, "
                f"{len(body)} bytes: {exc}; starts {start[:40]!r})"
            )
            return None
    if not isinstance(document, expect):
        names = " or ".join(
            t.__name__ for t in (expect if isinstance(expect, tuple) else (expect,))
        )
        report.error(f"{what}: expected a JSON {names}, got {type(document).__name__}")
        return None
    return document


def _repaired(body: bytes, what: str, report: CrawlReport) -> Any | None:
    """The answer read with its invalid escapes' backslashes dropped (noted), or None."""
    fixed, repairs = _INVALID_ESCAPE.subn(b"", body)
    try:
        document = json.loads(fixed)
    except ValueError:
        return None
    report.note(f"{what}: {repairs} invalid JSON escapes read as the characters they escape")
    return document
