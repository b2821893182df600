"""Staff feedback, one click from a digest: no account, a signed token in the link says
who, which digest, which call and what verdict. The answer page thanks and offers a
comment; a forged, altered or expired link gets a friendly page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from db.records import Feedback, Verdict
from notifier.tokens import TokenError, read_feedback_token
from web.app import now, store

feedback = Blueprint("feedback", __name__)
SAID = {
    Verdict.RELEVANT: "relevant",
    Verdict.NOT_RELEVANT: "inte relevant",
    Verdict.APPLY: "något ni vill söka",
}
COMMENT_CHARACTERS = 2000


@feedback.route("/aterkoppling/<token>", methods=["GET", "POST"])
def give(token: str):
    """Record the verdict the link carries (again: no change), then thank; a posted comment
    is added to it."""
    try:
        claim = read_feedback_token(current_app.config["SECRET_KEY"], token, now())
    except TokenError as exc:
        return _refused(str(exc))
    digest = store().digest_by_id(claim.digest_id)
    call = store().get_call(claim.call_id)
    if digest is None or call is None or claim.verdict not in SAID:
        return _refused("länken pekar inte på något vi känner till")
    if request.method == "POST":
        comment = request.form.get("comment", "").strip()[:COMMENT_CHARACTERS]
        store().comment_feedback(claim.digest_id, claim.call_id, claim.recipient, comment)
        return _thanks(call, claim.verdict, commented=True)
    store().record_feedback(
        Feedback(digest.id, digest.department_id, call.id, claim.recipient, claim.verdict, now())
    )
    return _thanks(call, claim.verdict, commented=False)


def _thanks(call, verdict: str, commented: bool):
    return render_template(
        "feedback.html", problem="", call=call, said=SAID[verdict], thanked=commented
    )


def _refused(problem: str):
    return render_template("feedback.html", problem=problem, call=None), 400
