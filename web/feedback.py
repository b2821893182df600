"""Staff feedback, one click from a digest: no account, a signed token in the link says
who, which digest, which call and what verdict ("Vi vill söka" also opens the department's
application for the call). The answer page thanks and offers a comment; a forged, altered
or expired link gets a friendly page."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, current_app, render_template, request

from db.records import Feedback, Verdict, newest_verdicts
from eufunds.preview import open_corpus
from matcher.suggestions import suggested_terms
from notifier.tokens import TokenError, claimed_recipient, read_feedback_token
from web.app import current_config, now, store
from web.auth import require

feedback = Blueprint("feedback", __name__)
SAID = {
    Verdict.RELEVANT: "relevant",
    Verdict.NOT_RELEVANT: "inte relevant",
    Verdict.APPLY: "något ni vill söka",
}
COMMENT_CHARACTERS = 2000
APPLY_NOTE = "Vi vill söka via digestens länk"


@feedback.route("/aterkoppling")
@require("coordinator")
def overview():
    """Staff feedback per department: how many calls were marked each way, and each verdict
    with its call, recipient, time and comment (newest first)."""
    given = store().feedback()
    calls = store().calls_by_id(sorted({f.call_id for f in given}))
    departments = current_config().written_departments
    by_department = {d.id: [f for f in given if f.department_id == d.id] for d in departments}
    # Counted as the statistics count them: each reader's newest word on each call.
    newest = newest_verdicts(given)
    tally = Counter((f.department_id, f.verdict) for f in newest)
    counts = {d.id: {v: tally[(d.id, v)] for v in SAID} for d in departments}
    corpus = open_corpus(store(), current_config(), now()).calls if given else []
    suggestions = {}
    for department in departments:
        mine = [f for f in newest if f.department_id == department.id and f.call_id in calls]
        # Each call once ("in two calls" means two calls, however many readers agreed).
        negative = [f.call_id for f in mine if f.verdict == Verdict.NOT_RELEVANT]
        positive = [f.call_id for f in mine if f.verdict != Verdict.NOT_RELEVANT]
        wanted = [calls[call_id] for call_id in dict.fromkeys(positive)]
        unwanted = [calls[call_id] for call_id in dict.fromkeys(negative)]
        suggestions[department.id] = (
            suggested_terms(wanted, corpus, department),
            suggested_terms(unwanted, corpus, department),
        )
    return render_template(
        "feedback_overview.html",
        departments=departments,
        by_department=by_department,
        counts=counts,
        calls=calls,
        said=SAID,
        suggestions=suggestions,
    )


@feedback.route("/aterkoppling/<token>", methods=["GET", "POST"])
def give(token: str):
    """A digest's feedback link. Opening it (GET) records nothing: mail systems that check
    links open every link of a message, some in a browser that runs scripts, so the verdict
    is recorded only by the reader's press of the page's button (a POST). Posting records
    it (again: no change), opening the department's application for "Vi vill söka", and
    thanks; a posted comment is added to it."""
    try:
        claim = read_feedback_token(current_app.config["SECRET_KEY"], token, now())
    except TokenError as exc:
        return _refused(str(exc))
    digest = store().digest_by_id(claim.digest_id)
    call = store().get_call(claim.call_id)
    recipient = None
    if digest is not None:
        sent_to = [d.recipient for d in store().digest_deliveries(digest.id)]
        recipients = dict.fromkeys([*digest.recipients, *sent_to])
        recipient = claimed_recipient(current_app.config["SECRET_KEY"], claim, recipients)
    if digest is None or call is None or recipient is None or claim.verdict not in SAID:
        return _refused("länken pekar inte på något vi känner till")
    given = store().feedback_of(claim.digest_id, claim.call_id, recipient)
    if request.method == "GET":
        if given is not None and given.verdict == claim.verdict:
            application = store().application_for(call.id, digest.department_id)
            return _thanks(call, claim.verdict, commented=False, application=application)
        return render_template("feedback_confirm.html", call=call, said=SAID[claim.verdict])
    if "comment" in request.form:
        comment = request.form.get("comment", "").strip()[:COMMENT_CHARACTERS]
        if given is None:
            return _refused("svaret behöver skickas innan en kommentar kan läggas till")
        store().comment_feedback(claim.digest_id, claim.call_id, recipient, comment)
        return _thanks(call, claim.verdict, commented=True)
    store().record_feedback(
        Feedback(digest.id, digest.department_id, call.id, recipient, claim.verdict, now())
    )
    application, opened = None, False
    if claim.verdict == Verdict.APPLY:
        # The department's application for the call: opened by the first "Vi vill söka",
        # found again by a second click or another recipient's.
        application, opened = store().open_application(
            call.id, digest.department_id, recipient, now(), APPLY_NOTE
        )
    return _thanks(call, claim.verdict, commented=False, application=application, opened=opened)


def _thanks(call, verdict: str, commented: bool, application=None, opened: bool = False):
    return render_template(
        "feedback.html",
        problem="",
        call=call,
        said=SAID[verdict],
        thanked=commented,
        application=application,
        opened=opened,
    )


def _refused(problem: str):
    return render_template("feedback.html", problem=problem, call=None), 400
