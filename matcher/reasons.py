"""Why calls matched: the profile keywords each call holds, by their share of what the
keywords add to its text score, found for many matches at once.

What a keyword adds to a call is its weight times what its term finds in the call (``hits``,
calls x terms, see matcher.vectors.Terms), so the reasons of all matches come from the
calls' hits by array arithmetic: each match is expanded over the terms its call holds, each
term looked up among its profile's keywords, and the largest kept.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from matcher.vectors import Terms

MAX_REASON_TERMS = 6

Reasons = tuple[tuple[str, float], ...]


class KeywordSlots:
    """Where each profile's keywords are among the terms: ``layers[n][term * profiles +
    profile]`` is the profile's (n + 1)-th keyword that is the term (-1: none). A profile
    seldom has two keywords of one term (two words with the same stem): there are few layers."""

    def __init__(self, terms: Terms) -> None:
        self.terms = terms
        self.profiles = profiles = len(terms.offsets) - 1
        slot_profile = terms.slot_profile
        self.layers: list[np.ndarray] = []
        remaining = np.arange(len(terms.slot_term))
        while len(remaining):
            keys = terms.slot_term[remaining] * profiles + slot_profile[remaining]
            _, first = np.unique(keys, return_index=True)
            chosen = remaining[first]
            layer = np.full(terms.plain.shape[0] * profiles, -1, dtype=np.int64)
            layer[keys[first]] = chosen
            self.layers.append(layer)
            remaining = np.setdiff1d(remaining, chosen, assume_unique=True)

    def reasons(
        self, hits: sparse.csr_matrix, rows: np.ndarray, profiles: np.ndarray
    ) -> list[Reasons]:
        """For each match (call row ``rows[m]`` of ``hits``, profile ``profiles[m]``): the
        profile's keywords the call holds, largest first (keywords' order breaks ties), at
        most MAX_REASON_TERMS, each with its share of what all its keywords add."""
        count = len(rows)
        per_match = np.diff(hits.indptr)[rows]
        match_of = np.repeat(np.arange(count), per_match)
        first = np.repeat(hits.indptr[rows] - (np.cumsum(per_match) - per_match), per_match)
        positions = first + np.arange(len(match_of))
        found = hits.data[positions]
        # Each (term, profile) pair as a position in the layers, looked up once per layer.
        pair = hits.indices[positions].astype(np.int64) * self.profiles + profiles[match_of]
        matched, slots, values = [], [], []
        for layer in self.layers:
            slot = layer.take(pair)
            kept = slot >= 0
            matched.append(match_of[kept])
            slots.append(slot[kept])
            values.append(found[kept] * self.terms.slot_weight[slot[kept]])
        match_of, slot, value = (np.concatenate(parts) for parts in (matched, slots, values))
        totals = np.bincount(match_of, weights=value, minlength=count)
        positive = value > 0
        match_of, slot, value = match_of[positive], slot[positive], value[positive]
        order = np.lexsort((slot, -value, match_of))
        match_of, slot, value = match_of[order], slot[order], value[order]
        rank = np.arange(len(match_of)) - np.searchsorted(match_of, match_of)
        top = rank < MAX_REASON_TERMS
        match_of, slot, value = match_of[top], slot[top], value[top]
        shares = np.round(value / np.where(totals > 0, totals, 1.0)[match_of], 3)
        pairs = list(zip(self.terms.labels[slot].tolist(), shares.tolist(), strict=True))
        bounds = np.searchsorted(match_of, np.arange(count + 1)).tolist()
        return [tuple(pairs[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
