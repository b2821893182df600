"""The benchmarks' synthetic profiles: made from the configured departments, all distinct."""

from __future__ import annotations

from benchmarks.synthetic_profiles import synthetic_departments
from db.records import Department

# The most profiles a benchmark uses (benchmarks/matcher_scale.py).
BENCHMARK_PROFILES = 500


def _signature(department: Department) -> tuple:
    """What makes a profile's matches its own: keywords with weights, descriptions."""
    return (
        tuple(sorted(department.keywords_sv.items())),
        tuple(sorted(department.keywords_en.items())),
        department.description_sv,
        department.description_en,
    )


def test_profiles_are_distinct_in_keywords_weights_and_descriptions(config):
    """No two of the 500 profiles (configured + generated) share keywords, weights and
    descriptions, and no generated one repeats a configured one."""
    configured = list(config.departments)
    generated = synthetic_departments(configured, BENCHMARK_PROFILES - len(configured))
    profiles = configured + generated
    assert len(profiles) == BENCHMARK_PROFILES
    assert len({_signature(d) for d in profiles}) == BENCHMARK_PROFILES
    assert len({d.id for d in profiles}) == BENCHMARK_PROFILES


def test_profiles_are_made_from_the_configured_ones_only(config):
    """Every generated keyword and negative keyword is one a configured department has."""
    configured = list(config.departments)
    words = {label for d in configured for label in [*d.keywords_sv, *d.keywords_en]}
    negative = {word for d in configured for word in d.negative_keywords}
    for department in synthetic_departments(configured, BENCHMARK_PROFILES - len(configured)):
        assert set(department.keywords_sv) | set(department.keywords_en) <= words
        assert set(department.negative_keywords) <= negative


def test_generation_is_deterministic(config):
    """The same configuration gives the same profiles."""
    configured = list(config.departments)
    assert synthetic_departments(configured, 40) == synthetic_departments(configured, 40)
