"""Management's monthly report mail, sent to a real SMTP server on 127.0.0.1 and parsed
back: due from its day of the month, once per month, a failure recorded and tried again;
the outbox without SMTP; the [management] table and the scheduler's job."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from datetime import datetime

import pandas as pd
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner

from db import Store
from db.records import LOCAL_TZ
from eufunds.cli import main
from eufunds.config import DEFAULT_CONFIG_DIR, load_config
from eufunds.config_checks import ConfigError
from eufunds.config_management import ManagementSettings
from eufunds.monthly_report import send_monthly_report
from notifier.send import read_outbox
from scheduler.jobs import REPORT_JOB, build_scheduler, next_runs
from tests.support.databases import copy_database
from tests.support.mail import html_part, text_part
from tests.support.staff_activity import add_activity

RECIPIENTS = ("kommunledning@example.org", "ks-ordforande@example.org")
# 1 September, 08.00 in Stockholm: August's report is due (report day 1).
FIRST_OF_SEPTEMBER = datetime(2026, 9, 1, 8, tzinfo=LOCAL_TZ)


@pytest.fixture
def managed(config):
    """The configuration with management's recipients and report day 1."""
    return replace(config, management=ManagementSettings(RECIPIENTS, 1))


@pytest.fixture
def report_store(written_week, tmp_path):
    """Week 34 with feedback and applications (August's report has something to say)."""
    with Store(copy_database(written_week.db_path, tmp_path / "monthly.db")) as store:
        add_activity(store)
        yield store


def test_report_goes_out_once_a_month(report_store, managed, smtp_server, tmp_path):
    """On the first, August's report goes to management: the headline figures as text, the
    report with its charts as HTML, the workbook attached. Later runs that month send
    nothing more."""
    outcome = send_monthly_report(
        report_store, managed, FIRST_OF_SEPTEMBER, tmp_path, smtp_server.settings
    )
    assert (outcome.month, outcome.status) == ("2026-08", "sent")
    [received] = smtp_server.received
    assert set(received.rcpt_tos) == set(RECIPIENTS)
    message = received.message
    assert message["Subject"] == "EU-finansiering: statistik för augusti 2026"
    assert message["Message-ID"] == "<eufunds.report.2026-08@jonkoping.example>"
    calls = report_store.conn.execute("SELECT count(*) FROM calls").fetchone()[0]
    text = text_part(message)
    assert f"- Nya utlysningar: {calls} i " in text
    assert "- Återkoppling: 5 omdömen, 80,0 % relevanta" in text
    html = html_part(message)
    assert "statistik för augusti 2026" in html and html.count("<svg ") >= 3
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "rapport-2026-08.xlsx"
    sheets = pd.read_excel(io.BytesIO(attachment.get_content()), sheet_name=None)
    assert sheets["Utlysningar"]["Nya utlysningar"].sum() == calls
    recorded = report_store.report_mail("2026-08")
    assert (recorded.status, recorded.recipients, recorded.error) == ("sent", RECIPIENTS, "")
    assert recorded.message_id == message["Message-ID"]
    for later in (FIRST_OF_SEPTEMBER.replace(hour=9), datetime(2026, 9, 30, tzinfo=LOCAL_TZ)):
        again = send_monthly_report(report_store, managed, later, tmp_path, smtp_server.settings)
        assert again.status == "already-done"
    assert len(smtp_server.received) == 1


def test_nothing_before_the_report_day_or_without_recipients(
    report_store, managed, smtp_server, tmp_path
):
    """Before the configured day nothing is claimed or sent; without recipients, never."""
    on_the_fifth = replace(managed, management=ManagementSettings(RECIPIENTS, 5))
    early = send_monthly_report(
        report_store,
        on_the_fifth,
        datetime(2026, 9, 4, 23, tzinfo=LOCAL_TZ),
        tmp_path,
        smtp_server.settings,
    )
    assert early.status == "not-due" and report_store.report_mail("2026-08") is None
    unset = replace(managed, management=ManagementSettings())
    none = send_monthly_report(
        report_store, unset, FIRST_OF_SEPTEMBER, tmp_path, smtp_server.settings
    )
    assert none.status == "not-configured"
    due = send_monthly_report(
        report_store,
        on_the_fifth,
        datetime(2026, 9, 5, 8, tzinfo=LOCAL_TZ),
        tmp_path,
        smtp_server.settings,
    )
    assert due.status == "sent" and len(smtp_server.received) == 1


def test_a_failure_is_recorded_and_the_next_run_sends_it(
    report_store, managed, smtp_server, tmp_path
):
    """The server answers 451: the month's mail is recorded failed with the server's words;
    the next run, with the server healthy, sends it once."""
    smtp_server.handler.accept_only = 0
    failed = send_monthly_report(
        report_store, managed, FIRST_OF_SEPTEMBER, tmp_path, smtp_server.settings
    )
    assert failed.status == "failed" and "451" in failed.error
    recorded = report_store.report_mail("2026-08")
    assert recorded.status == "failed" and "451" in recorded.error
    assert "451" in failed.describe()
    smtp_server.handler.accept_only = None
    retried = send_monthly_report(
        report_store, managed, FIRST_OF_SEPTEMBER.replace(day=2), tmp_path, smtp_server.settings
    )
    assert retried.status == "sent"
    assert len(smtp_server.received) == 1
    recorded = report_store.report_mail("2026-08")
    assert recorded.status == "sent" and recorded.error == ""


def test_a_month_that_failed_into_the_next_is_not_dropped(
    report_store, managed, smtp_server, tmp_path
):
    """August's mail failed all through September: on 1 October it goes first, then
    September's with the next run."""
    smtp_server.handler.accept_only = 0
    send_monthly_report(report_store, managed, FIRST_OF_SEPTEMBER, tmp_path, smtp_server.settings)
    smtp_server.handler.accept_only = None
    october = FIRST_OF_SEPTEMBER.replace(month=10)
    first = send_monthly_report(report_store, managed, october, tmp_path, smtp_server.settings)
    second = send_monthly_report(report_store, managed, october, tmp_path, smtp_server.settings)
    third = send_monthly_report(report_store, managed, october, tmp_path, smtp_server.settings)
    assert [(o.month, o.status) for o in (first, second, third)] == [
        ("2026-08", "sent"),
        ("2026-09", "sent"),
        ("2026-09", "already-done"),
    ]
    assert len(smtp_server.received) == 2


def test_a_run_that_stopped_while_sending_leaves_it_stuck_until_released(
    report_store, managed, smtp_server, tmp_path
):
    """Claimed, then the process stopped: by SMTP it may have gone out, so it is stuck and
    named as such until `eufunds release-report` lets the next run send it."""
    assert report_store.claim_report_mail("2026-08", RECIPIENTS, FIRST_OF_SEPTEMBER)
    stuck = send_monthly_report(
        report_store, managed, FIRST_OF_SEPTEMBER, tmp_path, smtp_server.settings
    )
    assert stuck.status == "stuck" and "eufunds release-report 2026-08" in stuck.error
    assert smtp_server.received == []
    runner = CliRunner()
    db = str(report_store.path)
    released = runner.invoke(main, ["release-report", "2026-08", "--db", db])
    assert released.exit_code == 0, released.output
    again = runner.invoke(main, ["release-report", "2026-08", "--db", db])
    assert again.exit_code == 1 and "no stuck report mail of 2026-08" in again.output
    sent = send_monthly_report(
        report_store, managed, FIRST_OF_SEPTEMBER, tmp_path, smtp_server.settings
    )
    assert sent.status == "sent" and len(smtp_server.received) == 1


def test_an_outbox_file_left_by_a_stopped_run_is_recorded(report_store, managed, tmp_path):
    """To the outbox a file that is there is whole: a run that stopped after writing it,
    before recording it, leaves it recorded as written by the next run, not written again."""
    written = send_monthly_report(report_store, managed, FIRST_OF_SEPTEMBER, tmp_path, None)
    before = written.path.read_bytes()
    with report_store.conn:  # as the stopped run left it: claimed, file written
        report_store.conn.execute("UPDATE report_mails SET status = 'claimed'")
    later = FIRST_OF_SEPTEMBER.replace(day=2)
    again = send_monthly_report(report_store, managed, later, tmp_path, None)
    assert (again.status, again.path) == ("written", written.path)
    assert report_store.report_mail("2026-08").status == "written"
    assert written.path.read_bytes() == before


def test_without_smtp_the_report_goes_to_the_outbox(report_store, managed, tmp_path):
    """No SMTP server configured: the mail is written to the outbox, once."""
    outcome = send_monthly_report(report_store, managed, FIRST_OF_SEPTEMBER, tmp_path, None)
    assert outcome.status == "written" and outcome.path == tmp_path / "report-2026-08.eml"
    message = read_outbox(outcome.path)
    assert message["To"] == ", ".join(RECIPIENTS)
    assert message["From"] == "Jönköpings kommun <eu-samordning@example.org>"
    assert report_store.report_mail("2026-08").outbox_path == str(outcome.path)
    again = send_monthly_report(report_store, managed, FIRST_OF_SEPTEMBER, tmp_path, None)
    assert again.status == "already-done"


def test_the_scheduler_runs_the_report_job_daily_when_asked():
    """With a report cron and step the scheduler has a third job, at 08.00 each day; it
    runs the step as of the scheduler's clock. Without them there is no such job."""
    ran = []
    scheduler = build_scheduler(
        "30 5 * * *",
        "0 7 * * *",
        120,
        lambda now: "crawl",
        lambda now: "digest",
        scheduler=BackgroundScheduler(timezone=LOCAL_TZ),
        clock=lambda: FIRST_OF_SEPTEMBER,
        report=("0 8 * * *", lambda now: ran.append(now) or "report"),
    )
    half_past_seven = FIRST_OF_SEPTEMBER.replace(hour=7, minute=30)
    runs = {job_id: when for job_id, _, when in next_runs(scheduler, half_past_seven)}
    assert runs[REPORT_JOB] == FIRST_OF_SEPTEMBER
    assert scheduler.get_job(REPORT_JOB).func() == "report" and ran == [FIRST_OF_SEPTEMBER]
    without = build_scheduler(
        "30 5 * * *", "0 7 * * *", 120, str, str, scheduler=BackgroundScheduler(timezone=LOCAL_TZ)
    )
    assert REPORT_JOB not in {job.id for job in without.get_jobs()}


@pytest.fixture
def config_copy(tmp_path):
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def _with_management(folder, table: str):
    path = folder / "eufunds.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[management]\n" + table, "utf-8")


def test_management_table_is_read_and_checked(config_copy):
    """Recipients and a report day from 1 to 28 load; a bad address, a day past 28 or an
    unknown key stop with one line naming [management]."""
    assert load_config(config_copy).management == ManagementSettings()
    _with_management(config_copy, 'recipients = ["ks@example.org"]\nreport_day = 3\n')
    assert load_config(config_copy).management == ManagementSettings(("ks@example.org",), 3)
    for table, problem in (
        ('recipients = ["inte en adress"]\n', "not a valid e-mail address"),
        ("report_day = 31\n", "'report_day' must be a number from 1 to 28"),
        ('sender = "x@example.org"\n', "unknown key 'sender'"),
    ):
        shutil.copy(DEFAULT_CONFIG_DIR / "eufunds.toml", config_copy / "eufunds.toml")
        _with_management(config_copy, table)
        with pytest.raises(ConfigError) as error:
            load_config(config_copy)
        assert "management" in str(error.value) and problem in str(error.value)
