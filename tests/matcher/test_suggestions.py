"""Words staff feedback suggests for a profile (hand-written calls: no labelled feedback exists)."""

from __future__ import annotations

from db.records import Call, Department
from matcher.suggestions import suggested_terms

PROFILE = Department(
    id="social",
    name="Social",
    description_sv="",
    description_en="",
    keywords_sv={"hemlöshet": 1.0},
    keywords_en={"homelessness": 2.0},
    negative_keywords=("nuclear",),
    preferred_programmes=(),
    min_score=0.1,
    lead_time_days=21,
    recipients=("social@example.org",),
    digest_weekday="monday",
)


def _call(n: int, text: str) -> Call:
    return Call(id=f"c{n}", source_id="s", identifier=f"c{n}", title=text, summary="")


def test_words_marked_calls_share_and_the_profile_lacks():
    """A word in two marked calls and rare elsewhere comes first; the profile's own words,
    stop words and words in one marked call only never come."""
    marked = [
        _call(1, "Homelessness and housing first for rough sleepers"),
        _call(2, "Housing first pilots with rough sleepers in cities"),
        _call(3, "Nuclear safety and housing research"),
    ]
    corpus = [*marked, *(_call(10 + n, f"Energy grid storage number {n}") for n in range(20))]
    found = suggested_terms(marked, corpus, PROFILE)
    words = [word for word, _, _ in found]
    lifts = [lift for _, _, lift in found]
    assert lifts == sorted(lifts, reverse=True)
    assert {"housing", "rough", "sleepers"} <= set(words)
    assert not {"homelessness", "nuclear", "first", "with", "pilots"} & set(words)
    assert suggested_terms(marked[:1], corpus, PROFILE) == []
