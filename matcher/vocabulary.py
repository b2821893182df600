"""What analyses of many calls have met so far: words, terms and feature keys, as numbers.

A batch of texts is cut into chunks by bytes (``chunks``): every ASCII byte that is no part
of any word is a space, so a chunk is letters and hyphens, and any non-ASCII character; the
words of a chunk are ``_WORD.findall`` of it, worked out once per distinct chunk. A word has an
id; its term in a language (its stem, tagged when Swedish: the unigram feature) has an id and a
key; a bigram is a pair of term ids whose key is hashed once. Everything is looked up or hashed
once per process until the vocabulary grows past MAX_CACHED_WORDS and starts over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from itertools import repeat

import numpy as np

from matcher.analysis import (
    _WORD,
    MAX_CACHED_WORDS,
    MIN_COMPOUND,
    STOP_WORDS,
    SWEDISH_TAG,
    hashed_key,
    stem,
)

TAGS = {"en": "", "sv": SWEDISH_TAG}
# Put between the lower-cased texts of a batch: lower() leaves no upper-case ASCII letter, so
# no word of a text is the mark, and the spaces around it keep it apart from the words beside it.
MARK = "Q"
# The term of a word not yet looked up, and of a word that is dropped (a stop word, a letter).
UNKNOWN, DROPPED = -2, -1
# ASCII letters and "-" stay, as do all bytes of non-ASCII characters (UTF-8 never uses ASCII
# bytes inside one); every other ASCII byte is in no word, so it becomes a space.
_CHUNK_BYTES = bytes(
    byte if chr(byte).isalpha() or byte == ord("-") or byte >= 0x80 else ord(" ")
    for byte in range(256)
)
# Lone surrogates (a JSON text may hold one) pass through bytes and back unchanged.
_ENCODING = ("utf-8", "surrogatepass")


def encoded(text: str) -> bytes:
    """A text as UTF-8, as ``chunks`` reads it."""
    return text.encode(*_ENCODING)


def chunks(text: bytes) -> list[bytes]:
    """The chunks of an encoded text: every word of the text is inside one of them, in order."""
    return text.translate(_CHUNK_BYTES).split()


class Vocabulary:
    """Chunks, words, terms and bigram keys met so far, each looked up or hashed once."""

    def __init__(self, twins: Collection[bytes] = ()) -> None:
        """``twins``: encoded texts to note in chunks (``word_id_array`` says if one is met)."""
        self.twins = tuple(twins)
        self.chunk_ids: dict[bytes, int] = {}
        # The words of chunk c are chunk_words[chunk_starts[c] : chunk_starts[c] + chunk_sizes[c]].
        self.chunk_starts = np.zeros(0, np.int64)
        self.chunk_sizes = np.zeros(0, np.int64)
        self.chunk_words = np.zeros(0, np.int64)
        self.chunk_twins = np.zeros(0, bool)
        self._chunk_words_used = 0
        self.word_ids: dict[str, int] = {}
        self.words: list[str] = []
        # Per language: the term of each word id (UNKNOWN until looked up).
        self.word_terms = {language: np.zeros(0, np.int64) for language in TAGS}
        self.term_ids: dict[str, int] = {}
        self.term_stems: list[str] = []
        self.term_tags: list[str] = []
        self.term_keys = np.zeros(0, np.int64)
        # Whether a term is a Swedish stem long enough to hold a compound's parts.
        self.term_compounds = np.zeros(0, bool)
        # Key of the bigram of terms a and b, by a << 32 | b.
        self.pair_keys: dict[int, int] = {}
        # Per text: how many words were searched for it, and the ids of those that hold it.
        self._holding: dict[str, tuple[int, np.ndarray]] = {}
        self.word(MARK)

    def is_large(self) -> bool:
        """Whether it holds more than MAX_CACHED_WORDS chunks or pairs."""
        return max(len(self.chunk_ids), len(self.pair_keys)) > MAX_CACHED_WORDS

    def word(self, word: str) -> int:
        """The id of a word, added when new."""
        found = self.word_ids.get(word)
        if found is None:
            found = self.word_ids[word] = len(self.words)
            self.words.append(word)
        return found

    def word_id_array(self, found: list[bytes]) -> tuple[np.ndarray, bool]:
        """The ids of the words of the chunks found, in order; and whether a chunk holds one
        of the ``twins`` (see ``__init__``)."""
        chunk_of = np.fromiter(
            map(self.chunk_ids.get, found, repeat(-1)), np.int64, count=len(found)
        )
        unknown = np.flatnonzero(chunk_of < 0).tolist()
        if unknown:
            missing = [found[place] for place in unknown]
            for chunk in sorted(set(missing)):
                self._add_chunk(chunk)
            chunk_of[unknown] = np.fromiter(
                map(self.chunk_ids.__getitem__, missing), np.int64, count=len(missing)
            )
        sizes, starts = self.chunk_sizes[chunk_of], self.chunk_starts[chunk_of]
        twins = bool(self.chunk_twins[chunk_of].any())
        if (sizes == 1).all():
            return self.chunk_words[starts], twins
        # Chunk k's words are at starts[k], starts[k] + 1, ...: one position per word.
        ends = np.cumsum(sizes)
        offsets = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - sizes, sizes)
        return self.chunk_words[np.repeat(starts, sizes) + offsets], twins

    def _add_chunk(self, chunk: bytes) -> None:
        """Give a new chunk an id and its words."""
        ids = [self.word(word) for word in _WORD.findall(chunk.decode(*_ENCODING))]
        chunk_id = self.chunk_ids[chunk] = len(self.chunk_ids)
        if chunk_id >= len(self.chunk_starts):
            self.chunk_starts = _grown(self.chunk_starts)
            self.chunk_sizes = _grown(self.chunk_sizes)
            self.chunk_twins = _grown(self.chunk_twins)
        self.chunk_twins[chunk_id] = any(twin in chunk for twin in self.twins)
        while self._chunk_words_used + len(ids) > len(self.chunk_words):
            self.chunk_words = _grown(self.chunk_words)
        self.chunk_starts[chunk_id] = self._chunk_words_used
        self.chunk_sizes[chunk_id] = len(ids)
        self.chunk_words[self._chunk_words_used : self._chunk_words_used + len(ids)] = ids
        self._chunk_words_used += len(ids)

    def term_array(self, word_ids: np.ndarray, language: str) -> np.ndarray:
        """The term of each word in a language (DROPPED for stop words and one-letter words)."""
        terms = self.word_terms[language]
        if len(terms) < len(self.words):
            terms = self.word_terms[language] = np.concatenate(
                [terms, np.full(len(self.words) - len(terms), UNKNOWN, np.int64)]
            )
        seen = np.zeros(len(terms), dtype=bool)
        seen[word_ids] = True
        stop = STOP_WORDS[language]
        for word_id in np.flatnonzero(seen & (terms == UNKNOWN)).tolist():
            word = self.words[word_id]
            stemmed = "" if word in stop or len(word) < 2 else stem(word, language)
            terms[word_id] = self._term(stemmed, language) if stemmed else DROPPED
        return terms[word_ids]

    def _term(self, stemmed: str, language: str) -> int:
        """The id of a stem's term in a language, added when new."""
        feature = TAGS[language] + stemmed
        term = self.term_ids.get(feature)
        if term is None:
            term = self.term_ids[feature] = len(self.term_stems)
            self.term_stems.append(stemmed)
            self.term_tags.append(TAGS[language])
            if term >= len(self.term_keys):
                self.term_keys = _grown(self.term_keys)
                self.term_compounds = _grown(self.term_compounds)
            self.term_keys[term] = hashed_key(feature)
            self.term_compounds[term] = language == "sv" and len(stemmed) >= MIN_COMPOUND
        return term

    def pair_key_array(self, codes: np.ndarray) -> np.ndarray:
        """The keys of bigrams given as a << 32 | b (terms a and b, of one language)."""
        keys, stems, tags = self.pair_keys, self.term_stems, self.term_tags
        listed = codes.tolist()
        for code in listed:
            if code not in keys:
                first, second = code >> 32, code & 0xFFFFFFFF
                keys[code] = hashed_key(f"{tags[first]}{stems[first]} {stems[second]}")
        return np.fromiter(map(keys.__getitem__, listed), np.int64, count=len(listed))

    def words_holding(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Per text, the ids of the words that hold it (words met since are searched now)."""
        result, searches = {}, defaultdict(list)
        for text in texts:
            searched, found = self._holding.get(text, (0, np.zeros(0, np.int64)))
            if searched < len(self.words):
                searches[searched].append(text)
            result[text] = found
        for searched, unsearched in searches.items():
            new = self.words[searched:]
            # Words hold no line break: one search over them all, then a word per place found.
            joined = "\n".join(new)
            lengths = np.fromiter(map(len, new), np.int64, count=len(new))
            starts = np.cumsum(lengths + 1) - lengths - 1
            for text in unsearched:
                places, place = [], joined.find(text)
                while place >= 0:
                    places.append(place)
                    place = joined.find(text, place + 1)
                holding = np.unique(np.searchsorted(starts, places, side="right") - 1) + searched
                found = np.concatenate([result[text], holding.astype(np.int64)])
                self._holding[text] = (len(self.words), found)
                result[text] = found
        return result


def _grown(array: np.ndarray) -> np.ndarray:
    """An array twice as long (at least 1,024), starting with ``array``."""
    grown = np.zeros(max(1024, 2 * len(array)), array.dtype)
    grown[: len(array)] = array
    return grown
