"""A digest's feedback link, from a message a real SMTP server received to the web app:
one click records that recipient's verdict on that call of that digest, once."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlsplit

from db import Store
from eufunds.digests import send_digests
from notifier.tokens import read_feedback_token
from tests.support.databases import copy_database
from tests.support.digest_runs import NOW
from tests.support.mail import html_part
from tests.web.conftest import click_feedback
from web.app import create_app

SECRET = "test-secret-key-that-is-long-enough-0123456789"
WEB = "https://eu.jonkoping.example"


def test_a_link_in_a_received_digest_records_its_recipients_verdict(
    matched_snapshot, config, smtp_server, tmp_path
):
    db_path = copy_database(matched_snapshot, tmp_path / "links.db")
    linked = replace(config, organisation=replace(config.organisation, web_url=WEB))
    department = next(d for d in linked.departments if len(d.recipients) > 1)
    with Store(db_path) as store:
        send_digests(
            store,
            linked,
            NOW,
            tmp_path,
            smtp_server.settings,
            department_ids=[department.id],
            feedback_secret=SECRET,
        )
    second = smtp_server.received[1]
    [recipient] = second.rcpt_tos
    html = html_part(second.message)
    links = re.findall(r'href="(' + re.escape(WEB) + r'/aterkoppling/[^"]+)"', html)
    apply_links = [
        link
        for link in links
        if read_feedback_token(SECRET, link.rsplit("/", 1)[1], NOW).verdict == "apply"
    ]
    assert apply_links and len(links) == 3 * len(apply_links)
    app = create_app(linked, db_path, SECRET, clock=lambda: NOW)
    client = app.test_client()
    path = urlsplit(apply_links[0]).path
    for _ in range(2):
        answer = click_feedback(client, path)
        assert answer.status_code == 200
        assert "något ni vill söka" in answer.get_data(as_text=True)
    with Store(db_path) as store:
        [given] = store.feedback(department.id)
        digest = store.digest_of(department.id, "2026-W34")
        assert (given.recipient, given.verdict, given.digest_id) == (recipient, "apply", digest.id)
        assert given.call_id in {c for c, _ in store.digest_call_ids(digest.id)}
