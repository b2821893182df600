"""Profile changes staff feedback suggests: words frequent in the calls a department marked
relevant (or wants to apply for) but missing from its profile, and words frequent in calls
it marked not relevant (negative keyword candidates). Pure: calls and a profile in, words
with how much more often they occur than in all open calls out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from db.records import Call, Department
from matcher.analysis import STOP_WORDS, detect_language, words

MIN_LENGTH = 4
TOP = 10


def suggested_terms(
    marked: Sequence[Call], corpus: Sequence[Call], profile: Department, top: int = TOP
) -> list[tuple[str, int, float]]:
    """Words in at least two of the marked calls, not in the profile, ranked by how much more
    often a marked call holds them than a call of the corpus: (word, marked calls holding it,
    lift)."""
    if len(marked) < 2 or not corpus:
        return []
    known = {w for term in [*profile.keywords_sv, *profile.keywords_en] for w in words(term)}
    known |= {w for term in profile.negative_keywords for w in words(term)}
    marked_counts = _document_counts(marked)
    corpus_counts = _document_counts(corpus)
    found = []
    for word, count in marked_counts.items():
        if count < 2 or word in known:
            continue
        share = count / len(marked)
        background = (corpus_counts.get(word, 0) + 1) / (len(corpus) + 1)
        found.append((word, count, share / background))
    return sorted(found, key=lambda item: (-item[2], -item[1], item[0]))[:top]


def _document_counts(calls: Sequence[Call]) -> Counter:
    """In how many calls each content word occurs (title and summary)."""
    counts: Counter = Counter()
    for call in calls:
        text = f"{call.title} {call.summary}"
        stop = STOP_WORDS.get(detect_language(text), set())
        counts.update({w for w in words(text) if len(w) >= MIN_LENGTH and w not in stop})
    return counts
