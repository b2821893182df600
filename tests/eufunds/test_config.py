"""Configuration loading: the embedded default, and one clear line for each kind of error."""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from eufunds.cli import main
from eufunds.config import DEFAULT_CONFIG_DIR, ConfigError, load_config
from eufunds.matching import MatchingError, run_match
from tests.conftest import SHARED, SNAPSHOT_NOW


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A writable copy of the embedded default configuration."""
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_default_has_the_thirteen_evaluated_departments():
    """The default departments are exactly the 13 ids of the evaluation set, in order."""
    with (SHARED / "eval" / "departments.toml").open("rb") as handle:
        expected = [d["id"] for d in tomllib.load(handle)["department"]]
    assert [d.id for d in load_config().departments] == expected


def test_default_departments_are_full_profiles():
    """Every default department has bilingual text, keywords, recipients and a weekday."""
    for department in load_config().departments:
        assert department.description_sv and department.description_en, department.id
        assert len(department.keywords_sv) >= 10, department.id
        assert len(department.keywords_en) >= 10, department.id
        assert department.negative_keywords, department.id
        assert department.preferred_programmes, department.id
        assert all(r.endswith("@example.org") for r in department.recipients), department.id


def test_focus_areas_cover_the_strategy():
    """The three fokusområden and the twin-town and youth delmål are configured."""
    areas = load_config().focus_areas
    names = {area.name for area in areas}
    assert {
        "Omvärldsbevakning och kompetensutveckling",
        "Samverkan och strategiska partnerskap",
        "Extern finansiering",
    } <= names
    twin = " ".join(
        " ".join(a.keywords_sv) + " ".join(a.keywords_en) for a in areas if a.kind == "delmal"
    )
    for city in ("bodø", "kuopio", "svendborg", "lääne-viru"):
        assert city in twin.lower()


def test_focus_area_quotes_come_from_the_strategy():
    """Each focus area quotes the strategy text it comes from, verbatim."""
    raw = (SHARED / "strategy" / "internationell-strategi.txt").read_text(encoding="utf-8")
    joined = " ".join(raw.replace("-\n", "").split())
    for area in load_config().focus_areas:
        assert " ".join(area.strategy_quote.split()) in joined, area.id


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "departments.toml",
            'digest_weekday = "monday"',
            'digest_wekday = "monday"',
            "unknown key 'digest_wekday'",
        ),
        (
            "departments.toml",
            "lead_time_days = 21",
            'lead_time_days = "21"',
            "'lead_time_days' must be an integer, got str",
        ),
        ("departments.toml", 'id = "social"', 'id = "stadskontoret"', "duplicate id"),
        ("departments.toml", "@example.org", "example.org", "not a valid e-mail address"),
        ("sources.toml", 'kind = "ft_portal"', 'kind = "rss_magic"', "unknown kind 'rss_magic'"),
        ("focus_areas.toml", 'kind = "fokusomrade"', 'kind = "theme"', "'kind' must be one of"),
        ("eufunds.toml", "[crawl]", "[crawl", "invalid TOML"),
        (
            "eufunds.toml",
            "[schedule]",
            '[schedule]\ntimezone = "Europe/Helsinki"',
            "'timezone' can only be Europe/Stockholm",
        ),
        # Impossible numbers: not finite, negative, absurdly large.
        ("matching.toml", "focus_weight = 1.0", "focus_weight = nan", "from 0 to 10, got nan"),
        ("matching.toml", "focus_weight = 1.0", "focus_weight = inf", "from 0 to 10, got inf"),
        ("matching.toml", "title_weight = 2.0", "title_weight = 1e300", "from 0 to 10"),
        ("departments.toml", "min_score = 0.08", "min_score = -inf", "from 0 to 1, got -inf"),
        ("departments.toml", "lead_time_days = 21", "lead_time_days = 100000", "from 0 to 365"),
        (
            "departments.toml",
            '"företagsklimat" = 2.5',
            '"företagsklimat" = inf',
            "keyword 'företagsklimat' (sv): weight must be a number from 0.01 to 100, got inf",
        ),
        (
            "focus_areas.toml",
            "weight = 0.8",
            "weight = -1",
            "'weight' must be a number from 0 to 10",
        ),
        ("eufunds.toml", "retry_times = 4", "retry_times = 1000", "from 0 to 20, got 1000"),
        ("eufunds.toml", "page_size = 100", "page_size = 0", "from 1 to 1000, got 0"),
        ("eufunds.toml", "download_delay = 1.0", "download_delay = nan", "got nan"),
        ("matching.toml", "factor = 0.5", "factor = 0", "'factor' must be a number from 0.01"),
        (
            "eufunds.toml",
            "page_size = 100",
            "page_size = 1" + "0" * 400,
            "from 1 to 1000, got 10000000000000000000…",
        ),
        ("matching.toml", "'EU External Action',", "'',", "pattern '' matches any text"),
        ("matching.toml", "'EU External Action',", "'x*',", "pattern 'x*' matches any text"),
        (
            "departments.toml",
            '"ERUF", "INTERREG", "SMP"',
            '"ERDF", "INTERREG", "SMP"',
            "preferred programme 'ERDF' is no programme of matching.toml (known: AGRIP, CEF,",
        ),
        ("matching.toml", 'JUST = "Justice', 'just = "Justice', "a code is upper-case"),
        (
            "eufunds.toml",
            'coordinator_email = "eu-samordning@example.org"\n',
            'coordinator_email = "eu-samordning@example.org"\nweb_url = "javascript:x"\n',
            "'web_url' must be an http(s) address",
        ),
        # Twin towns: a list of names, each once.
        (
            "eufunds.toml",
            'twin_towns = ["Bodö", "Kuopio", "Svendborg", "Väst-Virumaa län"]',
            'twin_towns = "Bodö"',
            "'twin_towns' must be a list, got str",
        ),
        (
            "eufunds.toml",
            'twin_towns = ["Bodö", "Kuopio", "Svendborg", "Väst-Virumaa län"]',
            'twin_towns = ["Bodö", 3]',
            "'twin_towns' must be names of 1 to 100 characters, got 3",
        ),
        (
            "eufunds.toml",
            'twin_towns = ["Bodö", "Kuopio", "Svendborg", "Väst-Virumaa län"]',
            'twin_towns = ["Bodö", " "]',
            "'twin_towns' must be names of 1 to 100 characters, got ' '",
        ),
        (
            "eufunds.toml",
            'twin_towns = ["Bodö", "Kuopio", "Svendborg", "Väst-Virumaa län"]',
            'twin_towns = ["Bodö", "Kuopio", "Bodö"]',
            "twin town 'Bodö' is named twice",
        ),
        # The digests' programme lines name programmes of matching.toml, in text.
        ("programmes.toml", "LIFE = ", "LYFE = ", "unknown programme code 'LYFE' (known: AGRIP,"),
        ("programmes.toml", 'LIFE = "LIFE: ', 'LIFE = 3\nX = "', "expected a line of text"),
        (
            "matching.toml",
            "factor = 0.8\nwho_may_apply = false",
            'factor = 0.8\nwho_may_apply = "no"',
            "'who_may_apply' must be",
        ),
        # The learnt model must fit this configuration.
        ("model.json", '"log-score"', '"log-scores"', "'log-scores' is no feature of this"),
        ("model.json", '"threshold": 0.', '"threshold": 1.', "'threshold' must be a number"),
        (
            "model.json",
            '"thresholds": {\n  "aldreomsorg"',
            '"thresholds": {\n  "elderly"',
            "no department 'elderly': retrain the model",
        ),
        # Listing selectors, CSS or XPath, and a listing's own date format.
        ("sources.toml", 'title = "h2, h3"', 'title = "h2[["', "title: bad CSS selector 'h2[['"),
        ("sources.toml", 'title = "h2, h3"', 'title = "//h2[@"', "title: bad XPath '//h2[@'"),
        (
            "sources.toml",
            'next_page = "a[rel=next]"\n\n# URBACT',
            'next_page = "a[rel=next]"\ndate_format = "%m/%Y"\n\n# URBACT',
            "'date_format' '%m/%Y' needs %d and %Y",
        ),
    ],
)
def test_config_errors_name_file_entry_and_problem(config_copy, file, old, new, message):
    """A bad config line stops with one line naming the file, the entry and the problem."""
    _edit(config_copy / file, old, new)
    with pytest.raises(ConfigError) as caught:
        load_config(config_copy)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(str(config_copy / file))
    assert message in text


def test_unreadable_file_is_a_config_error(config_copy):
    """Bytes that are not UTF-8 give a clear error, not a traceback."""
    (config_copy / "sources.toml").write_bytes(b"\xff\xfe id = 1")
    with pytest.raises(ConfigError, match="sources.toml"):
        load_config(config_copy)


def test_missing_file_is_a_config_error(config_copy):
    """A missing file is named."""
    (config_copy / "focus_areas.toml").unlink()
    with pytest.raises(ConfigError, match="focus_areas.toml: file not found"):
        load_config(config_copy)


def test_config_check_exits_2_with_one_line(config_copy):
    """`eufunds config check` on a broken file prints one line and exits 2, no traceback."""
    _edit(config_copy / "departments.toml", "min_score = ", "min_score = 7 #")
    result = CliRunner().invoke(main, ["config", "check", "--config", str(config_copy)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "department 'stadskontoret'" in lines[0] and "'min_score'" in lines[0]


def test_config_check_passes_on_default():
    """The embedded default validates."""
    result = CliRunner().invoke(main, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert "13 departments" in result.output


def test_twin_towns_are_the_strategys_and_optional(config_copy):
    """The default names the four twin towns of the international strategy; a configuration
    without the key has none; `config check` refuses a bad list with one line."""
    strategy = (SHARED / "strategy" / "internationell-strategi.txt").read_text(encoding="utf-8")
    towns = load_config().organisation.twin_towns
    assert towns == ("Bodö", "Kuopio", "Svendborg", "Väst-Virumaa län")
    assert all(town in " ".join(strategy.split()) for town in towns)
    path = config_copy / "eufunds.toml"
    _edit(path, 'twin_towns = ["Bodö", "Kuopio", "Svendborg", "Väst-Virumaa län"]', "")
    assert load_config(config_copy).organisation.twin_towns == ()
    _edit(path, "[crawl]", 'twin_towns = [""]\n\n[crawl]')
    result = CliRunner().invoke(main, ["config", "check", "--config", str(config_copy)])
    assert result.exit_code == 2
    assert "'twin_towns' must be names" in result.output


def test_config_show_prints_effective_configuration(config_copy):
    """`config show` prints the loaded values as JSON, from the folder given by EUFUNDS_CONFIG."""
    _edit(config_copy / "eufunds.toml", "download_timeout = 30", "download_timeout = 45")
    result = CliRunner().invoke(main, ["config", "show"], env={"EUFUNDS_CONFIG": str(config_copy)})
    assert result.exit_code == 0, result.output
    assert '"download_timeout": 45' in result.output
    assert '"id": "raddningstjanst"' in result.output


def test_earlier_configuration_naming_swedish_time_still_loads(config_copy):
    """A [schedule] written when the zone was a setting (timezone = "Europe/Stockholm") loads."""
    _edit(config_copy / "eufunds.toml", "[schedule]", '[schedule]\ntimezone = "Europe/Stockholm"')
    assert load_config(config_copy).schedule == load_config().schedule


def test_department_without_keywords_is_an_error(config_copy):
    """A profile with no keyword in either language would match nothing: one clear line."""
    path = config_copy / "departments.toml"
    text = path.read_text(encoding="utf-8")
    first, rest = text.split("[department.keywords.sv]", 1)
    rest = rest.split("[[department]]", 1)[1]
    path.write_text(first + "[[department]]" + rest, encoding="utf-8")
    with pytest.raises(ConfigError, match="department 'stadskontoret': needs at least one keyword"):
        load_config(config_copy)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_matching_that_gives_no_finite_scores_keeps_the_stored_matches(matched_store, config):
    """Scores that are not finite numbers (weights set in code past the config check) are an
    error, and the stored matches stay as they were."""
    before = matched_store.matches()
    broken = replace(config, matching=replace(config.matching, focus_weight=float("inf")))
    with pytest.raises(MatchingError, match="not finite numbers; the stored matches are kept"):
        run_match(matched_store, broken, SNAPSHOT_NOW, full=True)
    assert matched_store.matches() == before
