"""Synthetic department profiles for the benchmarks, recombined from the configured ones.

Pure (records in, records out), so that the tests can check what the benchmarks use: the
generated profiles are distinct from each other and from the configured departments
(tests/matcher/test_synthetic_profiles.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from db.records import Department


def synthetic_departments(departments: Sequence[Department], count: int) -> list[Department]:
    """``count`` more profiles made by recombining the configured departments, deterministically.

    Synthetic profile k (0-based) starts from department a = k mod n and mixes in department
    b = (a + 1 + k // n) mod n (n configured departments; b == a when k // n + 1 is a multiple
    of n, and then a is mixed with itself): all of a's keywords with their weights rotated by
    k // n + 1 places (per language), plus every second keyword of b (starting at k mod 2) at
    b's weight where a lacks it; negative keywords of a; preferred programmes of a then b;
    descriptions of a then b; a's minimum score, lead time, recipients and weekday.
    Id: ``syn<k>-<a>-<b>``. Profiles with the same a and b (k // n apart by a multiple of n)
    differ only in how far a's weights are rotated, which changes nothing where a's weights are
    all alike: that the profiles are distinct is checked, not assumed
    (tests/matcher/test_synthetic_profiles.py, for the 500 the benchmarks use).
    """
    n = len(departments)
    result = []
    for k in range(count):
        a, b = departments[k % n], departments[(k % n + 1 + k // n) % n]
        shift = k // n + 1

        def mixed(own: dict[str, float], other: dict[str, float], shift=shift, k=k):
            labels, weights = list(own), list(own.values())
            if weights:
                weights = weights[shift % len(weights) :] + weights[: shift % len(weights)]
            keywords = dict(zip(labels, weights, strict=True))
            for label, weight in list(other.items())[k % 2 :: 2]:
                keywords.setdefault(label, weight)
            return keywords

        result.append(
            dataclasses.replace(
                a,
                id=f"syn{k}-{a.id}-{b.id}",
                name=f"{a.name} + {b.name} ({k})",
                description_sv=f"{a.description_sv} {b.description_sv}",
                description_en=f"{a.description_en} {b.description_en}",
                keywords_sv=mixed(a.keywords_sv, b.keywords_sv),
                keywords_en=mixed(a.keywords_en, b.keywords_en),
                preferred_programmes=tuple(
                    dict.fromkeys(a.preferred_programmes + b.preferred_programmes)
                ),
            )
        )
    return result
