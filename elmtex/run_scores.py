"""The per-record numbers of a scored run, kept on disk (`RunScores`): one row of float64
numbers per record of the gold split, at the record's position in it, in a temporary file.
Memory does not grow with the number of records; every run scored against the same gold lines
up row by row, so the summaries (elmtex/summaries.py) and comparisons read them sequentially.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from elmtex.grounding import EXACT, FUZZY, NONE, NORMALIZED
from elmtex.io import id_hash

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
# Columns of RunScores' grounding counts.
GROUNDING_COUNTS = (EXACT, NORMALIZED, FUZZY, NONE, "icl_copied")
EVAL_CHUNK = 512  # records per step of the bootstrap passes (weights: n_boot x this)


class RunScores:
    """Per-record numbers of one run (nan = not scored for that record), kept on disk.

    Each scored record is one row of float64 numbers in a temporary file, at the record's
    position in the gold split (file order): memory does not grow with the run, and every run
    scored against the same gold lines up row by row, so comparisons and paired examples are
    sequential reads. `chunks()` reads the rows back in slices, `arrays()` all at once (for
    small runs and tests).

    Arrays (records on axis 0): rouge[t], bert, bleu: (text fields); entity: (text fields, 3)
    tp/fp/fn; na: (fields, 2) gold N/A, predicted N/A; exact: (exact fields); parsed, valid: ();
    grounding: (fields, 5) item counts exact, normalized, fuzzy, none, and ICL-copied (the
    last nan in a run without retrieved examples). A record left out under `unparseable: skip`
    is nan everywhere except `parsed` (0).
    """

    def __init__(
        self,
        gold,
        text_fields: list[str],
        exact_fields: list[str],
        fields: list[str],
        has_bert: bool,
        has_entities: bool,
        has_bleu: bool = False,
        choice_fields: list[str] | None = None,
    ):
        self.gold = gold  # a Mapping id -> record, iterated in file order (dict or SplitIndex)
        self.n_gold = len(gold)
        self.text_fields, self.exact_fields, self.fields = text_fields, exact_fields, fields
        self.has_bert, self.has_entities, self.has_bleu = has_bert, has_entities, has_bleu
        self.choice_fields = list(choice_fields or ())  # exact fields scored as a choice
        self.finish: Counter = Counter()
        self.missing_ids: list[str] = []
        self.has_grounding = False
        self.has_icl = False  # some cached row carries retrieved example ids (advanced_icl)
        self.grounding_info: dict | None = None
        self.lang_names: list[str] = []
        self.n = 0  # records scored
        nt, ne, nf = len(text_fields), len(exact_fields), len(fields)
        self._shapes = {
            "present": (),
            "key_hi": (),
            "key_lo": (),
            "lang": (),
            "parsed": (),
            "valid": (),
            **{t: (nt,) for t in ROUGE_TYPES},
            "bert": (nt,),
            "bleu": (nt,),
            "entity": (nt, 3),
            "na": (nf, 2),
            "exact": (ne,),
            "grounding": (nf, len(GROUNDING_COUNTS)),
        }
        self._slices, width = {}, 0
        for name, shape in self._shapes.items():
            size = int(np.prod(shape))
            self._slices[name] = slice(width, width + size)
            width += size
        self.width = width
        # Unbuffered: reads and writes are plain seeks; the file is deleted when closed.
        self._file = tempfile.TemporaryFile(buffering=0)
        self._file.truncate(self.n_gold * width * 8)  # never-written rows read as 0: absent

    def new_row(self, record_id: str, lang: str, parsed: bool) -> np.ndarray:
        """A record's row: nan (not scored) but for its identity and parse flag."""
        row = np.full(self.width, np.nan)
        key = id_hash(record_id)
        if lang not in self.lang_names:
            self.lang_names.append(lang)
        for name, value in (
            ("present", 1.0),
            ("key_hi", key >> 32),
            ("key_lo", key & 0xFFFFFFFF),
            ("lang", self.lang_names.index(lang)),
            ("parsed", float(parsed)),
        ):
            row[self._slices[name]] = value
        return row

    def put(self, row: np.ndarray, name: str, values: Any) -> None:
        row[self._slices[name]] = np.asarray(values, dtype=float).reshape(-1)

    def get(self, row: np.ndarray, name: str) -> np.ndarray:
        return row[self._slices[name]].reshape(self._shapes[name])

    def write(self, position: int, row: np.ndarray) -> None:
        self._file.seek(position * self.width * 8)
        self._file.write(row.astype(np.float64).tobytes())
        self.n += 1

    def rows(self, start: int, stop: int) -> dict[str, Any]:
        """The arrays of gold positions start..stop-1 (absent records have present False)."""
        count = max(0, min(stop, self.n_gold) - start)
        buf = bytearray(count * self.width * 8)
        self._file.seek(start * self.width * 8)
        got = self._file.readinto(buf) if count else 0
        if got != len(buf):
            raise OSError(f"short read from the scores file: {got} of {len(buf)} bytes")
        return self._unpack(np.frombuffer(buf, dtype=np.float64).reshape(count, self.width))

    def _unpack(self, data: np.ndarray) -> dict[str, Any]:
        m = data.shape[0]
        a: dict[str, Any] = {
            name: data[:, sl].reshape((m, *self._shapes[name])) for name, sl in self._slices.items()
        }
        a["present"] = a["present"] == 1.0
        a["keys"] = (a.pop("key_hi").astype(np.uint64) << np.uint64(32)) | a.pop("key_lo").astype(
            np.uint64
        )
        for name, has in (
            ("bert", self.has_bert),
            ("bleu", self.has_bleu),
            ("entity", self.has_entities),
            ("grounding", self.has_grounding),
        ):
            if not has:
                a[name] = None
        if a["grounding"] is not None and not self.has_icl:
            a["grounding"] = a["grounding"].copy()
            a["grounding"][..., -1] = np.nan  # no examples: the copy check does not apply
        return a

    def chunks(self, size: int = EVAL_CHUNK) -> Iterator[tuple[int, dict[str, Any]]]:
        """(first position, arrays) for consecutive slices of the gold positions."""
        for start in range(0, self.n_gold, size):
            yield start, self.rows(start, start + size)

    def arrays(self) -> dict[str, Any]:
        """The numbers of the scored records as float arrays, in gold order (read whole)."""
        parts = [take(a, a["present"]) for _, a in self.chunks()]
        if not parts:
            return take(self._unpack(np.zeros((0, self.width))), np.zeros(0, dtype=bool))
        return {
            k: (None if parts[0][k] is None else np.concatenate([p[k] for p in parts]))
            for k in parts[0]
        }

    @property
    def ids(self) -> list[str]:
        """The scored records' ids, in gold order."""
        present = (a["present"] for _, a in self.chunks())
        flags = (bool(p) for chunk in present for p in chunk)
        return [rid for rid, here in zip(self.gold, flags, strict=True) if here]

    def close(self) -> None:
        self._file.close()


def take(a: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    """The given records (a boolean mask or positions) of an arrays dict."""
    return {k: (None if v is None else v[rows]) for k, v in a.items()}
