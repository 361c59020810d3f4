"""The passage collection that retrieval-augmented prompts draw on (retriever.passages.path):
loading and checking it, the text each passage is embedded and shown as, and the rerankers that
reorder the dense retriever's candidates (BM25 on the query's exact terms, or a cross-encoder).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from elmtex.config import UserError
from elmtex.io import read_jsonl

_WORD = re.compile(r"\w+", re.UNICODE)


class PassageError(UserError, ValueError):
    """A passage collection that cannot be used, with what to do."""


def load_passages(path: str | Path) -> list[dict]:
    """The passage collection: one JSON object per line with a unique string `id` and a
    non-empty `text` (optional `title`); an error names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise PassageError(
            f"passage collection {path} not found (retriever.passages.path); "
            "the shipped one is made by scripts/make_qa_data.py."
        )
    out, seen = [], set()
    for line, row in read_jsonl(path):
        if (
            not isinstance(row.get("id"), str)
            or not isinstance(row.get("text"), str)
            or not row["text"].strip()
        ):
            raise PassageError(
                f"{path}:{line}: a passage needs a string 'id' and a non-empty string 'text'"
            )
        if row["id"] in seen:
            raise PassageError(f"{path}:{line}: passage id {row['id']!r} occurs twice")
        seen.add(row["id"])
        out.append(row)
    if not out:
        raise PassageError(f"{path} holds no passages")
    return out


def passage_text(passage: dict) -> str:
    """What is embedded and shown: the title (when there is one) above the text."""
    title = (passage.get("title") or "").strip()
    return f"{title}\n{passage['text']}" if title else passage["text"]


_STOP = frozenset(
    "a an the of in on at to for and or is are was be by with what which how "
    "who does do its it this that as from most often usually name".split()
)


def _terms(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


class BM25Reranker:
    """Okapi BM25 (k1 = 1.2, b = 0.75) with document frequencies of the whole collection:
    reorders the dense retriever's candidates by the query's exact terms, which an embedding
    blurs (the condition's name, a drug's name)."""

    name = "bm25"

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.docs = [Counter(_terms(t)) for t in texts]
        self.lengths = np.array([sum(d.values()) for d in self.docs], dtype=float)
        self.avg_length = float(self.lengths.mean()) if len(self.docs) else 0.0
        df = Counter(term for d in self.docs for term in d)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: str, positions: Sequence[int]) -> list[float]:
        terms = set(_terms(query))
        out = []
        for p in positions:
            d, norm = (
                self.docs[p],
                self.k1 * (1 - self.b + self.b * self.lengths[p] / (self.avg_length or 1.0)),
            )
            out.append(
                sum(
                    self.idf.get(t, 0.0) * d[t] * (self.k1 + 1) / (d[t] + norm)
                    for t in terms
                    if d[t]
                )
            )
        return out


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder (e.g. cross-encoder/ms-marco-MiniLM-L-6-v2 or
    BAAI/bge-reranker-v2-m3 on a GPU box: hub models, not shipped on PyPI) scoring each
    (question, passage) pair."""

    name = "cross-encoder"

    def __init__(self, model: str, texts: Sequence[str], device: str = "cpu"):
        from sentence_transformers import CrossEncoder

        self.model_name = model
        self.texts = list(texts)
        self.model = CrossEncoder(model, device=device)

    def scores(self, query: str, positions: Sequence[int]) -> list[float]:
        pairs = [(query, self.texts[p]) for p in positions]
        return [float(s) for s in self.model.predict(pairs, show_progress_bar=False)]


def make_reranker(
    kind: str | None, texts: Sequence[str], model: str | None = None, device: str = "cpu"
):
    """None for `none`, else the reranker `retriever.passages.reranker` names."""
    if kind in (None, "none"):
        return None
    if kind == "bm25":
        return BM25Reranker(texts)
    if kind == "cross-encoder":
        if not model:
            raise PassageError(
                "retriever.passages.reranker is cross-encoder but "
                "retriever.passages.reranker_model names no model."
            )
        return CrossEncoderReranker(model, texts, device)
    raise PassageError(
        f"retriever.passages.reranker must be none, bm25 or cross-encoder, got {kind!r}"
    )


def rerank(
    hits: list[tuple[int, float]], scores: list[float], keep: int
) -> list[tuple[int, float, float]]:
    """(position, dense score, rerank score) of the `keep` best by rerank score; ties keep the
    dense order."""
    order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))[:keep]
    return [(hits[i][0], hits[i][1], scores[i]) for i in order]
