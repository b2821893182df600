"""The Swedish regions a call says it is for, as NUTS codes."""

from __future__ import annotations

import pytest

from crawler.regions import regions_named


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        (
            "Projekt i Jönköpings, Kronobergs och Kalmar län samt Gotland",
            ["SE211", "SE212", "SE213"],
        ),
        ("Kompetensförsörjning i Övre Norrland", ["SE33"]),
        ("Utlysningen gäller för Stockholms län", ["SE110"]),
        ("inom Västra Götalandsregionen och Hallands län", ["SE231", "SE232"]),
        ("Regionala fonden för Småland och öarna", ["SE21"]),
        ("Informationsmöte i Stockholm den 3 maj", []),
        ("Hållbar tillväxt i hela Sverige", []),
    ],
)
def test_regions_a_call_is_for(text, codes):
    """Regions stated as a call's area are read (listed län too); a city named in passing or
    the whole country is no region."""
    assert regions_named(text) == codes
