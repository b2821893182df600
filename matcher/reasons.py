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
        pairs = terms.plain.shape[0] * profiles
        self.pair_type = np.int32 if pairs < 2**31 else np.int64
        self.layers: list[np.ndarray] = []
        remaining = np.arange(len(terms.slot_term))
        while len(remaining):
            keys = terms.slot_term[remaining] * profiles + slot_profile[remaining]
            _, first = np.unique(keys, return_index=True)
            chosen = remaining[first]
            layer = np.full(pairs, -1, dtype=np.int32)
            layer[keys[first]] = chosen
            self.layers.append(layer)
            remaining = np.setdiff1d(remaining, chosen, assume_unique=True)
        labels, self.label_of = np.unique(terms.labels.astype(str), return_inverse=True)
        self.label_names = labels.astype(object)
        # Pairs that are in more than the first layer.
        self.more = np.zeros(pairs, dtype=bool)
        for layer in self.layers[1:]:
            self.more |= layer >= 0

    def reasons(
        self, hits: sparse.csr_matrix, rows: np.ndarray, profiles: np.ndarray
    ) -> list[Reasons]:
        """For each match (call row ``rows[m]`` of ``hits``, profile ``profiles[m]``): the
        profile's keywords the call holds, largest first (keywords' order breaks ties), at
        most MAX_REASON_TERMS, each with its share of what all its keywords add."""
        count = len(rows)
        per_match = np.diff(hits.indptr)[rows]
        # Each match expanded over the entries of its call's row of hits.
        match_of = np.repeat(np.arange(count, dtype=np.int32), per_match)
        positions = np.arange(len(match_of), dtype=np.int64)
        positions += np.repeat(hits.indptr[rows] - (np.cumsum(per_match) - per_match), per_match)
        found = hits.data.take(positions)
        # Each (term, profile) pair as a position in the layers.
        pair = hits.indices.take(positions).astype(self.pair_type)
        pair *= self.profiles
        pair += np.repeat(profiles.astype(self.pair_type), per_match)
        del positions
        slot = self.layers[0].take(pair)
        kept = np.flatnonzero(slot >= 0)
        matched, slots, values = [match_of[kept]], [slot[kept]], [found[kept]]
        # The few pairs of a profile with two keywords of one term, in the further layers.
        more = np.flatnonzero(self.more.take(pair))
        for layer in self.layers[1:]:
            slot = layer.take(pair[more])
            kept = more[slot >= 0]
            matched.append(match_of[kept])
            slots.append(slot[slot >= 0])
            values.append(found[kept])
        match_of, slot, value = (np.concatenate(parts) for parts in (matched, slots, values))
        value *= self.terms.slot_weight.take(slot)
        totals = np.bincount(match_of, weights=value, minlength=count)
        positive = value > 0
        match_of, slot, value = match_of[positive], slot[positive], value[positive]
        order = np.lexsort((slot, -value, match_of))
        match_of, slot, value = match_of[order], slot[order], value[order]
        rank = np.arange(len(match_of)) - np.searchsorted(match_of, match_of)
        top = rank < MAX_REASON_TERMS
        match_of, slot, value = match_of[top], slot[top], value[top]
        # Shares rounded to 3 decimals as np.round does it: thousandths, then divided.
        thousandths = np.rint(value / np.where(totals > 0, totals, 1.0)[match_of] * 1000.0)
        pairs = self._pairs(slot, thousandths)
        bounds = np.searchsorted(match_of, np.arange(count + 1)).tolist()
        return [tuple(pairs[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def _pairs(self, slot: np.ndarray, thousandths: np.ndarray) -> list[tuple[str, float]]:
        """The (label, share) of each slot and share in thousandths; pairs that are alike
        are one object (a few thousand distinct pairs stand for millions)."""
        if not len(slot):
            return []
        span = int(thousandths.max() - thousandths.min()) + 1
        key = self.label_of[slot] * span + (thousandths - thousandths.min()).astype(np.int64)
        distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        objects = np.empty(len(distinct), dtype=object)
        names = self.label_names[self.label_of[slot[first]]].tolist()
        shares = (thousandths[first] / 1000.0).tolist()
        for n, pair in enumerate(zip(names, shares, strict=True)):
            objects[n] = pair
        return objects[inverse].tolist()
