"""Staff feedback as labels: the verdicts recipients gave calls in their digests, turned into
grades per call and department, the shape a labelled file gives (`eufunds train --feedback`).

How verdicts become a grade for a call and a department:

- each recipient has one voice: their newest verdict on the call for that department (a call
  that comes back in a later digest may be judged again, and the newer word counts);
- "Vi vill söka" (apply) from anyone makes it grade 2: someone in the department wants to
  apply, so the department should see the call, whatever the others said;
- otherwise the majority: more "Relevant" than "Inte relevant" is grade 1, fewer is grade 0
  (an explicit negative), and a tie is left out (counted): the department's word is unclear.

Feedback speaks only of the pairs it covers: a department that said nothing of a call has no
label for it (not a 0, as a department a labelled file leaves out has). Verdicts for a
department the configuration does not have, or on a call no longer stored, are skipped and
counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from db import Call, Store
from db.records import Feedback, Verdict, newest_verdicts

# The grade each verdict stands for, as labelled files grade calls.
GRADES = {Verdict.NOT_RELEVANT: 0, Verdict.RELEVANT: 1, Verdict.APPLY: 2}


@dataclass(frozen=True)
class FeedbackLabels:
    """Staff feedback as labels: the calls it is about and their grades per department (the
    pairs it covers only), and what was left out."""

    calls: list[Call]
    labels: dict[str, dict[str, int]]
    verdicts: int = 0
    unknown_departments: int = 0
    missing_calls: int = 0
    ties: int = 0
    grades: Mapping[int, int] = field(default_factory=dict)

    @property
    def pairs(self) -> int:
        """How many call-department pairs carry a label."""
        return sum(len(grades) for grades in self.labels.values())

    def describe(self) -> str:
        """One line: the labels made and what was skipped."""
        made = ", ".join(
            f"{self.grades.get(grade, 0)} {name}"
            for grade, name in ((2, "apply"), (1, "relevant"), (0, "not relevant"))
        )
        return (
            f"feedback: {self.pairs} labels ({made}) on {len(self.calls)} calls from "
            f"{self.verdicts} verdicts; skipped {self.unknown_departments} for departments not "
            f"in the configuration, {self.missing_calls} on calls not stored, {self.ties} ties"
        )


def combined_grade(verdicts: Iterable[str]) -> int | None:
    """The grade of one call for one department from its recipients' verdicts (one each):
    2 when anyone wants to apply, else the majority of relevant (1) and not relevant (0);
    None for a tie."""
    votes = Counter(verdicts)
    if votes[Verdict.APPLY]:
        return 2
    relevant, not_relevant = votes[Verdict.RELEVANT], votes[Verdict.NOT_RELEVANT]
    if relevant == not_relevant:
        return None
    return 1 if relevant > not_relevant else 0


def feedback_labels(
    feedback: Sequence[Feedback], calls: Mapping[str, Call], departments: Sequence[str]
) -> FeedbackLabels:
    """Labels from feedback on ``calls`` (by id) for ``departments``, as the module says."""
    known = set(departments)
    kept: list[Feedback] = []
    unknown = missing = 0
    for given in feedback:
        if given.department_id not in known:
            unknown += 1
        elif given.call_id not in calls:
            missing += 1
        elif given.verdict in GRADES:
            kept.append(given)
    voices: dict[tuple[str, str], list[str]] = {}
    newest = sorted(newest_verdicts(kept), key=lambda f: (f.call_id, f.department_id, f.recipient))
    for given in newest:
        voices.setdefault((given.call_id, given.department_id), []).append(given.verdict)
    labels: dict[str, dict[str, int]] = {}
    ties = 0
    for (call_id, department_id), verdicts in voices.items():
        grade = combined_grade(verdicts)
        if grade is None:
            ties += 1
        else:
            labels.setdefault(call_id, {})[department_id] = grade
    return FeedbackLabels(
        calls=[calls[call_id] for call_id in sorted(labels)],
        labels={call_id: labels[call_id] for call_id in sorted(labels)},
        verdicts=len(feedback),
        unknown_departments=unknown,
        missing_calls=missing,
        ties=ties,
        grades=Counter(g for grades in labels.values() for g in grades.values()),
    )


def stored_feedback_labels(store: Store, departments: Sequence[str]) -> FeedbackLabels:
    """Labels from all the feedback stored, on the stored calls, for ``departments``."""
    feedback = store.feedback()
    calls = store.calls_by_id(sorted({given.call_id for given in feedback}))
    return feedback_labels(feedback, calls, departments)
