"""Who-may-apply rules over a batch of calls, with the hits ``Analyser.analyse`` finds.

A call's rule text is searched for a pattern only where its pre-checks pass: its required
text (the per-call path's own pre-check, kept as it is), and here also its required choices
(``rule_hints.required_choices``). Both are first narrowed down without reading the texts:
each word of a required text lies whole inside one word of the call's texts (a word is
letters and inner hyphens, so letters side by side are one word), so a call none of whose
words holds it cannot have the text. Which calls have a word holding which word of the
pre-checks is worked out per distinct word (``Vocabulary.words_holding``) and spread to the
calls with a bit mask per word.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.analysis import _WORD, Analyser
from matcher.rule_hints import may_skip, required_choices
from matcher.vocabulary import Vocabulary

BITS = 64


class BatchRules:
    """An analyser's rules, ready to be tested on many calls at once."""

    def __init__(self, analyser: Analyser) -> None:
        # Per rule: its patterns, each with its required text and further required choices.
        self.rules = [
            (
                rule_id,
                [
                    (hint, pattern, _more_choices(required_choices(pattern.pattern), hint))
                    for hint, pattern in patterns
                ],
            )
            for rule_id, patterns in analyser.rules
        ]
        texts = {hint for _, patterns in self.rules for hint, _, _ in patterns}
        texts |= {
            text
            for _, patterns in self.rules
            for _, _, choices in patterns
            for choice in choices
            for text in choice
        }
        self.words = sorted({word for text in texts for word in _WORD.findall(text)})
        self.bit_of = {word: bit for bit, word in enumerate(self.words)}

    def needed(self, text: str) -> np.ndarray:
        """The mask of the words a call's words must hold for the call to hold ``text``."""
        mask = np.zeros(self.blocks, np.uint64)
        for word in _WORD.findall(text):
            bit = self.bit_of[word]
            mask[bit // BITS] |= np.uint64(1 << (bit % BITS))
        return mask

    @property
    def blocks(self) -> int:
        """How many 64-bit words a mask takes."""
        return max(1, -(-len(self.words) // BITS))

    def present(
        self, word_ids: np.ndarray, calls: np.ndarray, call_count: int, vocabulary: Vocabulary
    ) -> np.ndarray:
        """Per call, the mask of the pre-check words that some word of the call holds."""
        word_masks = np.zeros((len(vocabulary.words), self.blocks), np.uint64)
        holding = vocabulary.words_holding(self.words)
        for bit, word in enumerate(self.words):
            word_masks[holding[word], bit // BITS] |= np.uint64(1 << (bit % BITS))
        holding = word_masks.any(axis=1)[word_ids]
        masks, holding_calls = word_masks[word_ids[holding]], calls[holding]
        present = np.zeros((call_count, self.blocks), np.uint64)
        if len(holding_calls):
            numbers, starts = np.unique(holding_calls, return_index=True)
            present[numbers] = np.bitwise_or.reduceat(masks, starts, axis=0)
        return present

    def hits(
        self,
        texts: Sequence[tuple[str, str, str, str]],
        lowered: Sequence[tuple[str, ...]],
        present: np.ndarray,
        case_twins: bool = True,
    ) -> list[tuple[str, ...]]:
        """The rules each call's texts match.

        ``texts``: each call's title, context, summary and programme; ``lowered``: the same
        lower-cased; ``present``: from ``present``, over the words of all four; ``case_twins``:
        false when no text holds CASE_TWINS.
        """
        calls = _RuleTexts(texts, lowered, case_twins)
        hits: list[list[str]] = [[] for _ in texts]
        for rule_id, patterns in self.rules:
            pending = np.ones(len(texts), bool)
            for hint, pattern, choices in patterns:
                candidates = pending & self._holds(present, hint)
                choices_hold = candidates.copy()
                for choice in choices:
                    choices_hold &= np.any([self._holds(present, text) for text in choice], axis=0)
                # Where the choices fail, only a text with CASE_TWINS may still match.
                unsure = np.flatnonzero(candidates & ~choices_hold).tolist()
                searched = np.flatnonzero(choices_hold).tolist()
                searched += [number for number in unsure if not calls.may_skip(number)]
                for number in sorted(searched):
                    if hint in calls.lowered(number) and pattern.search(calls.text(number)):
                        hits[number].append(rule_id)
                        pending[number] = False
        return [tuple(found) for found in hits]

    def _holds(self, present: np.ndarray, text: str) -> np.ndarray:
        """Per call, whether its words hold every word of ``text``."""
        needed = self.needed(text)
        return ((present & needed) == needed).all(axis=1)


class _RuleTexts:
    """The calls' rule texts as ``Analyser.analyse`` searches them, made when first needed."""

    def __init__(
        self,
        texts: Sequence[tuple[str, ...]],
        lowered: Sequence[tuple[str, ...]],
        case_twins: bool,
    ) -> None:
        self.texts, self.lowered_texts, self.case_twins = texts, lowered, case_twins
        self._texts: dict[int, str] = {}
        self._lowered: dict[int, str] = {}
        self._may_skip: dict[int, bool] = {}

    def text(self, number: int) -> str:
        """Call ``number``'s rule text: title, summary, programme and context."""
        found = self._texts.get(number)
        if found is None:
            title, context, summary, programme = self.texts[number]
            found = self._texts[number] = f"{title}\n{summary}\n{programme}\n{context}"
        return found

    def lowered(self, number: int) -> str:
        """The rule text lower-cased (lower-casing never looks across a line break)."""
        found = self._lowered.get(number)
        if found is None:
            title, context, summary, programme = self.lowered_texts[number]
            found = self._lowered[number] = f"{title}\n{summary}\n{programme}\n{context}"
        return found

    def may_skip(self, number: int) -> bool:
        """Whether the required choices hold for the call's rule text (``may_skip``)."""
        if not self.case_twins:
            return True
        found = self._may_skip.get(number)
        if found is None:
            found = self._may_skip[number] = may_skip(self.text(number))
        return found


def _more_choices(choices: tuple[tuple[str, ...], ...], hint: str) -> tuple:
    """The required choices beyond the required text (which is tested anyway)."""
    return tuple(choice for choice in choices if choice != (hint,))
