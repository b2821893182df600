"""What a digest item says of a call beyond its title: the kind of funding in Swedish, who may
apply, whether a consortium is needed, what one project may get, co-financing, the reasons
in Swedish and a summary without boilerplate. Pure: records in, Swedish text out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from db.records import Call

# The portal's types of action (and other sources' words for them), first match wins: what
# a Swedish civil servant calls that kind of funding.
ACTION_TYPES = (
    (r"pre-?commercial procurement|public procurement of innovati", "innovationsupphandling"),
    (r"procurement|tender", "upphandling"),
    (r"prize", "pris"),
    (r"financial support|cascade", "kaskadfinansiering (bidrag via ett EU-projekt)"),
    (r"operating grant", "driftsbidrag"),
    (r"lump sum", "projektbidrag med klumpsumma"),
    (r"research and innovation action|\bria\b", "forskningsprojekt"),
    (r"coordination and support action|\bcsa\b", "samordningsprojekt"),
    (r"innovation action|\bia\b", "innovationsprojekt (demonstration och pilot)"),
    (r"cofund", "samfinansierat program (cofund)"),
    (r"msca staff exchange", "personalutbyte inom forskning (MSCA)"),
    (r"msca|erc grant|fellowship|doctoral", "forskarstipendium"),
    (r"equity", "riskkapital till företag"),
    (r"eic (grant|accelerator)", "bidrag till innovativa företag (EIC)"),
    (r"research action", "forskningsprojekt"),
    (r"development action", "utvecklingsprojekt"),
    (r"pilot projects? and preparatory action", "pilotprojekt (Europaparlamentets)"),
    (r"infrastructure project", "infrastrukturprojekt"),
    (r"project grant|simple grant|action grant", "projektbidrag"),
)
# Horizon Europe's and Euratom's research and innovation actions and innovation actions
# need, by the programme's general conditions, at least three independent organisations
# from three different EU or associated countries.
CONSORTIUM_ACTIONS = re.compile(
    r"(horizon|euratom).*(research and innovation actions|innovation actions)", re.I
)
CONSORTIUM_TEXT = re.compile(
    r"\bconsorti(um|a)\b|at least (three|3|two|2) (independent )?(legal )?"
    r"(entities|partners|organisations|organizations)|\bkonsorti(um|et)\b|"
    r"minst (tre|två) (parter|partner|organisationer)",
    re.I,
)
SINGLE_TEXT = re.compile(
    r"\bsingle (applicant|beneficiar(y|ies))\b|mono-beneficiar|\ben(skild)? sökande\b", re.I
)
# Headings the portal's topic texts carry, and footnote marks after words or stops.
BOILERPLATE = re.compile(
    r"\b(Expected Outcomes?|Expected Impacts?|Scope|Objectives?|Specific conditions|"
    r"Eligibility conditions|Topic description|Destination)\s*:\s*",
    re.I,
)
# A footnote mark: one or two digits right after a word of three letters or more, or after a
# stop that follows a letter ("policies1", "goals.2"); never a decimal ("2.5"), a unit
# ("km2") or a formula ("CO2"). Or a bracketed number ("[3]").
FOOTNOTES = re.compile(r"(?:(?<=[a-zåäö]{3})|(?<=[a-zåäö][.,;)]))\d{1,2}(?=[\s,.;:]|$)|\[\d{1,2}\]")
SUMMARY_CHARACTERS = 400


def action_type(call: Call) -> str:
    """The kind of funding in Swedish ('forskningsprojekt', 'pris'...); the source's own
    words when they are none of the known kinds, empty when the source gives none."""
    # "Type of Action" alone (as some agencies give it) says nothing.
    given = "" if call.type_of_action.lower().endswith("type of action") else call.type_of_action
    text = " ".join([given, "cascade" if call.kind == "cascade" else ""]).strip()
    if not text:
        return ""
    for pattern, swedish in ACTION_TYPES:
        if re.search(pattern, text, re.I):
            return swedish
    return given


def consortium(call: Call) -> str:
    """Whether the call needs a consortium: said so in its text, or by its programme's
    general conditions; empty when unknown."""
    text = f"{call.title} {call.summary}"
    if SINGLE_TEXT.search(text):
        return "en sökande kan räcka"
    if CONSORTIUM_TEXT.search(text):
        return "kräver konsortium (se utlysningen)"
    if CONSORTIUM_ACTIONS.search(call.type_of_action):
        return (
            "kräver konsortium: minst tre organisationer från tre EU-länder eller "
            "associerade länder"
        )
    return ""


def who_may_apply(call: Call, rule_notes: Sequence[str]) -> str:
    """Who may apply: as the source states it, else what the who-may-apply rules found."""
    if call.audience.strip():
        return " ".join(call.audience.split())
    return "; ".join(rule_notes)


def euro_text(amount: int) -> str:
    """'28,5 miljoner euro' or '850 000 euro'."""
    if amount >= 1_000_000:
        millions = f"{amount / 1_000_000:.1f}".replace(".", ",").removesuffix(",0")
        return f"{millions} miljoner euro"
    return f"{amount:,} euro".replace(",", " ")


def grant_text(call: Call) -> str:
    """What one project may get: the source's range, else the budget over the expected
    number of grants ('cirka'); empty when neither is known."""
    low, high = call.grant_min_eur, call.grant_max_eur
    grants = call.expected_grants
    count = f" ({grants} projekt väntas få bidrag)" if grants else ""
    if low and high and low != high:
        return f"{euro_text(low)} till {euro_text(high)} per projekt{count}"
    amount = high or low
    if amount:
        return f"{euro_text(amount)} per projekt{count}"
    if call.budget_eur and grants:
        return f"cirka {euro_text(call.budget_eur // grants)} per projekt{count}"
    return ""


def budget_text(call: Call) -> str:
    """The call's whole budget, said to be the whole ('totalt'), so it is not read as the
    grant; empty when unknown."""
    return f"{euro_text(call.budget_eur)} totalt" if call.budget_eur else ""


def swedish_terms(terms: Sequence[str], swedish_of: Mapping[str, str]) -> list[str]:
    """Matched profile terms, each in Swedish where the configuration pairs it with a Swedish
    term, without repeats ('climate adaptation' and 'klimatanpassning' are said once)."""
    said: list[str] = []
    for term in terms:
        swedish = swedish_of.get(term.lower(), term)
        if swedish not in said:
            said.append(swedish)
    return said


def clean_summary(text: str, limit: int = SUMMARY_CHARACTERS) -> str:
    """The call's summary as one paragraph without the portal's headings ('Expected
    Outcome:') and footnote marks, cut at a word within ``limit`` characters."""
    text = BOILERPLATE.sub("", " ".join(text.split()))
    text = FOOTNOTES.sub("", text).strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return text
