"""Fixtures of the ranking tests: the configuration, the real calls and their scores."""

from __future__ import annotations

import json

import pytest

from db.records import Call, MatchingSettings
from eufunds.config import Config, load_config
from matcher.rank import Matcher, ScoreTable
from tests.matcher.support import CALLS, DEPARTMENTS, FOCUS_AREAS, research_call


@pytest.fixture(scope="session")
def config() -> Config:
    """The configuration in config/ (for its term list and eligibility rules)."""
    return load_config()


@pytest.fixture(scope="session")
def settings(config: Config) -> MatchingSettings:
    """Default weights with the real Swedish–English term list and programmes, and no
    eligibility rules."""
    return MatchingSettings(terms=config.matching.terms, programmes=config.matching.programmes)


@pytest.fixture(scope="session")
def calls() -> list[Call]:
    """Every real call of the research list."""
    with CALLS.open(encoding="utf-8") as handle:
        return [research_call(json.loads(line)) for line in handle if line.strip()]


@pytest.fixture(scope="session")
def table(calls: list[Call], settings: MatchingSettings) -> ScoreTable:
    """The real calls scored for the hand-written departments and focus areas."""
    return Matcher(DEPARTMENTS, FOCUS_AREAS, settings).fit(calls).score(calls)
