"""The EU Funding & Tenders portal's search API as the spider speaks it: requests (JSON parts
sent as multipart/form-data with the public key), what tells results apart, and failures
described in one line."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

import scrapy
from twisted.python.failure import Failure

from crawler.fields import first, text


def api_request(
    url: str, params: dict[str, Any], parts: dict[str, Any], **request: Any
) -> scrapy.Request:
    """A POST to the portal's API: the public API key, JSON parts as multipart/form-data."""
    body, content_type = multipart(parts)
    query = urlencode({"apiKey": "SEDIA", "text": "***", **params})
    return scrapy.Request(
        f"{url}?{query}",
        method="POST",
        body=body,
        headers={"Content-Type": content_type, "Accept": "application/json"},
        dont_filter=True,
        **request,
    )


def multipart(parts: dict[str, Any]) -> tuple[bytes, str]:
    """Encode JSON parts as multipart/form-data, as the portal's search API expects."""
    boundary = f"eufunds{uuid.uuid4().hex}"
    chunks = []
    for name, value in parts.items():
        chunks.append(
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{name}"; filename="blob"\r\n'
            "Content-Type: application/json\r\n\r\n"
            f"{json.dumps(value)}\r\n"
        )
    chunks.append(f"--{boundary}--\r\n")
    return "".join(chunks).encode(), f"multipart/form-data; boundary={boundary}"


def result_key(row: Any) -> str:
    """What tells one search result from another: its reference, else its identifier."""
    if not isinstance(row, dict):
        return repr(row)
    metadata = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
    return text(row.get("reference")) or first(metadata, "identifier") or repr(row)[:200]


def objects(found: Any) -> list[dict]:
    """The objects of a list from the source; anything else in it (or instead of it) is none."""
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def describe(failure: Failure) -> str:
    """Describe a failed request in one line, with the HTTP status when there was one."""
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status} from {response.url}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"
