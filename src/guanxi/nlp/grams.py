"""Character n-grams of a batch of texts, found once for every model that reads them.

The sentiment, source-kind and stage models all read the character 1- to 3-grams of the
start of a text (``features.text_window``). A batch's n-grams become int64 codes at once
(``BatchGrams``), and every n-gram any loaded model knows has one id in a process-wide
vocabulary (``GramVocabulary``): a batch's codes are looked up there once and become a
sparse matrix (one row per text, one column per id), and each model's sums per text are one
product of that matrix with the model's weights by id (``GramWeights``); the reasons shown
read the model's weight row of each occurrence (``GramRows``). Looking a code up is one
gather in an open hash table for almost every code, known or not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from guanxi.nlp.features import MAX_GRAM, gram_code, text_window

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from guanxi.nlp.pipeline import Work

HashLevel = tuple[int, int, "npt.NDArray[np.int64]", "npt.NDArray[np.intp]"]


class BatchGrams:
    """The character n-grams of a batch of text windows as int64 codes (``gram_code``),
    computed once and shared by the models: every occurrence's code and the text it belongs
    to, text by text (each text's 1-grams, 2-grams then 3-grams, in the order of the text),
    each text's number of n-grams, and (once asked for) every occurrence's id in the
    vocabulary and the batch's sparse matrix of ids."""

    def __init__(self, windows: Sequence[str]) -> None:
        import numpy as np  # noqa: PLC0415 - heavy: loads with the first enrich, not at import

        lengths = np.fromiter(map(len, windows), dtype=np.int64, count=len(windows))
        raw = np.frombuffer("".join(windows).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        chars: npt.NDArray[np.int64] = raw.astype(np.int64) + 1
        text_of = np.repeat(np.arange(len(windows), dtype=np.int64), lengths)
        codes, texts = [chars], [text_of]
        for size in range(2, MAX_GRAM + 1):
            if len(chars) < size:
                break
            # An n-gram starting at i lies in one text when its last character does too.
            same = np.flatnonzero(text_of[: len(text_of) - size + 1] == text_of[size - 1 :])
            code: npt.NDArray[np.int64] = chars[: len(chars) - size + 1].copy()
            for offset in range(1, size):
                code = (code << 21) | chars[offset : len(chars) - size + 1 + offset]
            # np.take with indices rather than a mask: several times faster on these arrays.
            codes.append(code.take(same))
            texts.append(text_of.take(same))
        text_of = np.concatenate(texts)
        # Text by text, so that each text's occurrences are one row of ``matrix``: a stable
        # sort of three sorted runs, linear. Within a text the order stays 1-, 2-, 3-grams.
        order = np.argsort(text_of, kind="stable")
        self.codes = np.concatenate(codes).take(order)
        self.text_of = text_of.take(order)
        self.counts = lengths + np.maximum(lengths - 1, 0) + np.maximum(lengths - 2, 0)
        self.size = len(windows)
        self._ids: tuple[int, npt.NDArray[np.intp]] | None = None
        self._matrix: tuple[int, Any] | None = None

    def ids(self) -> npt.NDArray[np.intp]:
        """Every occurrence's id in the vocabulary (0: no loaded model knows it), looked up
        once for all the models (again only if a model was loaded in between)."""
        generation, table = VOCABULARY.table()
        if self._ids is None or self._ids[0] != generation:
            self._ids = (generation, table.find(self.codes))
        return self._ids[1]

    def matrix(self) -> Any:  # scipy.sparse.csr_array (untyped)
        """The batch as a sparse matrix: one row per text, one column per vocabulary id,
        each occurrence of an n-gram a model knows counted once, in the order of the text (a
        product sums each row in that order)."""
        ids = self.ids()
        generation = VOCABULARY.table()[0]
        if self._matrix is None or self._matrix[0] != generation:
            import numpy as np  # noqa: PLC0415 - loaded by __init__
            from scipy.sparse import csr_array  # noqa: PLC0415 - loaded with the models (GramWeights)

            known = np.flatnonzero(ids)  # the others weigh nothing in every model
            starts = np.zeros(self.size + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.text_of.take(known), minlength=self.size), out=starts[1:])
            matrix = csr_array(
                (np.ones(len(known)), ids.take(known), starts), shape=(self.size, generation + 1)
            )
            self._matrix = (generation, matrix)
        return self._matrix[1]


def batch_grams(batch: Sequence[Work]) -> BatchGrams:
    """The batch's text n-grams, computed once for every model and kept on its works."""
    grams = batch[0].grams if batch else None
    reusable = (
        isinstance(grams, BatchGrams)
        and grams.size == len(batch)
        and all(work.grams is grams for work in batch)
    )
    if not reusable or not isinstance(grams, BatchGrams):
        for work in batch:
            work.window = text_window(work.normalized_text)
        grams = BatchGrams([work.window for work in batch])
        for work in batch:
            work.grams = grams
    return grams


class HashTable:
    """int64 keys to values in levels of open hash tables (about 16 slots a key at the
    first): a key whose slot another key took goes to the next level, with another
    multiplier, so a look-up is one gather for almost every key, known or not."""

    def __init__(self, keys: npt.NDArray[np.int64], values: npt.NDArray[np.intp]) -> None:
        import numpy as np  # noqa: PLC0415 - heavy: loads with the first enrich, not at import

        self.levels: list[HashLevel] = []
        level = 0
        while len(keys):  # each level holds all but a few percent of the keys left
            level += 1
            # Odd 64-bit multipliers (Fibonacci hashing, then odd multiples of it).
            multiplier = (0x9E3779B97F4A7C15 * (2 * level - 1)) % (1 << 64)
            bits = max(8, int(len(keys) * 16).bit_length())
            slots = _slots(keys, multiplier, bits)
            _, first = np.unique(slots, return_index=True)
            table_keys = np.full(1 << bits, -1, dtype=np.int64)
            table_values = np.zeros(1 << bits, dtype=np.intp)
            table_keys[slots[first]] = keys[first]
            table_values[slots[first]] = values[first]
            self.levels.append((bits, multiplier, table_keys, table_values))
            rest = np.ones(len(keys), dtype=bool)
            rest[first] = False
            keys, values = keys[rest], values[rest]

    def find(self, keys: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
        """The value of each key, 0 for a key not in the table."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        found_values = np.zeros(len(keys), dtype=np.intp)
        pending: npt.NDArray[np.intp] | None = None  # None: every key (no copy of them)
        for bits, multiplier, table_keys, table_values in self.levels:
            wanted = keys if pending is None else keys.take(pending)
            slots = _slots(wanted, multiplier, bits)
            found = table_keys.take(slots)
            hit = found == wanted
            # np.take with indices rather than masks: several times faster on these arrays.
            hits = np.flatnonzero(hit)
            # A key whose slot is empty is unknown: keys only move on past a taken slot.
            moving = np.flatnonzero(~hit & (found >= 0))
            if pending is None:
                found_values[hits] = table_values.take(slots.take(hits))
                pending = moving
            else:
                found_values[pending.take(hits)] = table_values.take(slots.take(hits))
                pending = pending.take(moving)
            if not len(pending):
                break
        return found_values


def _slots(codes: npt.NDArray[np.int64], multiplier: int, bits: int) -> npt.NDArray[np.intp]:
    import numpy as np  # noqa: PLC0415 - loaded by the caller

    # Codes are never negative: the same bits as uint64, and the slots (under 2**bits) as
    # intp, without copies.
    mixed = codes.view(np.uint64) * np.uint64(multiplier)  # wraps modulo 2**64
    mixed >>= np.uint64(64 - bits)
    return mixed.view(np.intp)


class GramVocabulary:
    """Every n-gram a loaded model knows, with one id each (from 1); the hash table of their
    codes is rebuilt when a model adds n-grams (once per model, when it loads)."""

    def __init__(self) -> None:
        self._ids: dict[int, int] = {}
        self._lock = threading.Lock()
        self._table: tuple[int, HashTable] | None = None

    def add(self, grams: Iterable[str]) -> dict[str, int]:
        """The ids of ``grams`` (n-gram strings), adding those not there yet."""
        with self._lock:
            ids = self._ids
            result = {}
            for gram in grams:
                code = gram_code(gram)
                result[gram] = ids.setdefault(code, len(ids) + 1)
            if self._table is None or len(ids) != self._table[0]:
                self._table = self._build()  # with the model, not in the first batch
            return result

    def table(self) -> tuple[int, HashTable]:
        """The hash table of every known code, with its generation (the number of ids)."""
        with self._lock:
            if self._table is None:
                self._table = self._build()
            return self._table

    def _build(self) -> tuple[int, HashTable]:
        import numpy as np  # noqa: PLC0415 - heavy: loads with the first model

        codes = np.fromiter(self._ids, dtype=np.int64, count=len(self._ids))
        ids = np.fromiter(self._ids.values(), dtype=np.intp, count=len(self._ids))
        return (len(self._ids), HashTable(codes, ids))


VOCABULARY = GramVocabulary()


class GramWeights:
    """One model's weights of its n-grams (a column per class, or per quantity it sums) by
    vocabulary id (row 0, and the ids of n-grams it does not know: zeros), so that the sums
    per text of a batch are one sparse product (``BatchGrams.matrix``)."""

    def __init__(self, grams: Sequence[str], values: npt.NDArray[np.float64]) -> None:
        import numpy as np  # noqa: PLC0415 - heavy: loads with the first model
        import scipy.sparse  # noqa: F401, PLC0415 - heavy (~0.3 s): with the model, not in the first batch

        ids = VOCABULARY.add(grams)
        self._by_id = np.zeros((max(ids.values(), default=0) + 1, values.shape[1]))
        self._by_id[[ids[gram] for gram in grams]] = values

    def sums(self, grams: BatchGrams) -> npt.NDArray[np.float64]:
        """The sum of the weights of each text's n-gram occurrences (a row per text), added
        in the order of the text."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        matrix = grams.matrix()
        if len(self._by_id) < matrix.shape[1]:  # n-grams of models loaded later
            missing = matrix.shape[1] - len(self._by_id)
            self._by_id = np.concatenate([self._by_id, np.zeros((missing, self._by_id.shape[1]))])
        result: npt.NDArray[np.float64] = matrix @ self._by_id
        return result


class GramRows:
    """One model's weight row for each vocabulary id (0: the model does not know the
    n-gram), so that a batch's ids become the model's rows with one gather."""

    def __init__(self, rows: dict[str, int]) -> None:
        import numpy as np  # noqa: PLC0415 - heavy: loads with the first model

        ids = VOCABULARY.add(rows)
        self._rows = np.zeros(max(ids.values(), default=0) + 1, dtype=np.intp)
        for gram, row in rows.items():
            self._rows[ids[gram]] = row

    def of(self, grams: BatchGrams) -> npt.NDArray[np.intp]:
        """The model's row of each n-gram occurrence of ``grams`` (0 for one it does not
        know)."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        ids = grams.ids()
        if len(self._rows) <= int(ids.max(initial=0)):  # n-grams of models loaded later
            self._rows = np.concatenate(
                [self._rows, np.zeros(int(ids.max()) + 1 - len(self._rows), dtype=np.intp)]
            )
        return self._rows[ids]
