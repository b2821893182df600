"""The Swedish regions a call says it is for, as NUTS codes.

Only what a call states as its area counts: "i Övre Norrland", "för Stockholms län",
"inom Västra Götalandsregionen", "Skåne län"; a place named in passing ("ett möte i
Stockholm") does not, so a bare city name is never read as a region.
"""

from __future__ import annotations

import re

# Region and län names (their Swedish forms) and their NUTS codes (2021).
REGIONS = {
    "stockholms län": "SE110",
    "stockholmsregionen": "SE110",
    "östra mellansverige": "SE12",
    "uppsala län": "SE121",
    "södermanlands län": "SE122",
    "östergötlands län": "SE123",
    "örebro län": "SE124",
    "västmanlands län": "SE125",
    "småland och öarna": "SE21",
    "småland med öarna": "SE21",
    "jönköpings län": "SE211",
    "kronobergs län": "SE212",
    "kalmar län": "SE213",
    "gotlands län": "SE214",
    "sydsverige": "SE22",
    "blekinge län": "SE221",
    "skåne län": "SE224",
    "region skåne": "SE224",
    "västsverige": "SE23",
    "hallands län": "SE231",
    "västra götalands län": "SE232",
    "västra götalandsregionen": "SE232",
    "norra mellansverige": "SE31",
    "värmlands län": "SE311",
    "dalarnas län": "SE312",
    "gävleborgs län": "SE313",
    "mellersta norrland": "SE32",
    "västernorrlands län": "SE321",
    "jämtlands län": "SE322",
    "övre norrland": "SE33",
    "västerbottens län": "SE331",
    "norrbottens län": "SE332",
}
# "i/för/inom <name>" names an area; a name ending in "län" or "-regionen" is one anyway.
_NAMES = "|".join(sorted(map(re.escape, REGIONS), key=len, reverse=True))
_STATED = re.compile(rf"(?:\b(?:i|för|inom|från)\s+)?\b({_NAMES})s?\b", re.IGNORECASE)
# "Jönköpings, Kronobergs och Kalmar län": several län named together.
_LISTED = re.compile(
    r"\b((?:[\wåäöÅÄÖ]+,\s*)*[\wåäöÅÄÖ]+\s+och\s+[\wåäöÅÄÖ]+)\s+län\b", re.IGNORECASE
)


def regions_named(text: str) -> list[str]:
    """NUTS codes of the Swedish regions a text says a call is for, in order, once each."""
    found = []
    for match in _LISTED.finditer(text):
        for word in re.split(r",\s*|\s+och\s+", match.group(1)):
            code = REGIONS.get(f"{word.lower()} län")
            if code:
                found.append(code)
    for match in _STATED.finditer(text):
        name = match.group(1).lower()
        stated = match.group(0) != match.group(1) or name.endswith(("län", "regionen"))
        if stated:
            found.append(REGIONS[name])
    return list(dict.fromkeys(found))
