"""In-context example retrieval: embed the training split and search it per language; and, when
``retriever.passages.path`` names a passage collection, a second index over it for
retrieval-augmented prompts, optionally reranked to fewer passages.

``icl_retriever_app.py`` is the thin script; the HTTP service in front of this index is
elmtex/retrieval_service.py.

- Embeddings: sentence-transformers, L2-normalised, so FAISS inner product is cosine
  similarity. Passages get ``retriever.passage_prefix`` and queries ``retriever.query_prefix``
  (e5 models want "passage: " / "query: ").
- Indexes: one per language (a request only ever searches its own language), over the
  ``retriever.split`` split only (never the test split, and ``data.limit`` does not apply).
  ``flat`` is exact (IndexFlatIP); ``ivf`` is IndexIVFFlat with inner product, as in the study.
- Persistence: under ``retriever.index_dir/<lang>/``, the embeddings and the index are stored
  in files named after their fingerprint (see ``embedding_fingerprint``/``index_fingerprint``).
  A file with the right name is reused; any change of records, model, passage prefix or index
  settings gives another name, so it is rebuilt, and a half-written build can never be taken
  for a finished one (files are written to a temp name and renamed).
- Leakage: a query never gets itself back. Records named in ``exclude_ids`` and records whose
  text equals the query's (whitespace-normalised) are excluded; the search asks for k plus the
  number of excluded records, so exactly k come back whenever the language has enough.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from elmtex.config import UserError, resolve_path
from elmtex.io import atomic_write, json_sha256, load_split, write_json
from elmtex.local_models import MINILM, packaged_minilm
from elmtex.passages import load_passages, make_reranker, passage_text, rerank
from elmtex.task import Task

OFFLINE_MODEL = MINILM
INDEX_TYPES = ("flat", "ivf")
DTYPES = ("float32", "bfloat16", "float16")
# Files of a model folder that do not change what the torch backend computes.
_IGNORED_MODEL_FILES = {"README.md", ".gitattributes"}
_IGNORED_MODEL_DIRS = {"onnx", "openvino", ".git", ".cache"}


class RetrieverError(UserError, ValueError):
    """The retriever cannot start as configured; the message says what to change."""


class RequestError(ValueError):
    """A request the service answers with 400 (elmtex/retrieval_service.py); the message says
    what is wrong with it."""


# --- model -------------------------------------------------------------------------------------


def resolve_embedding_model(name: str) -> str:
    """What SentenceTransformer should load: the PyPI package's folder for the offline default
    ``all-minilm-l6-v2``, an existing directory as is, anything else as a hub id."""
    if name.lower() == OFFLINE_MODEL:
        return str(packaged_minilm("modules.json", "embedding model"))
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return name


def _file_digest(path: Path) -> str:
    """sha256 of a file. A Hugging Face cache snapshot links each large file to a blob named by
    its sha256, so that name is taken instead of reading gigabytes again."""
    if path.is_symlink():
        blob = Path(os.readlink(path)).name
        if re.fullmatch(r"[0-9a-f]{64}", blob):
            return blob
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_folder(name: str, resolved: str) -> Path | None:
    """The local folder a model was loaded from: the resolved directory, or for a hub id its
    snapshot in the Hugging Face cache (None if it cannot be found there)."""
    if Path(resolved).is_dir():
        return Path(resolved)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(resolved, local_files_only=True))
    except Exception:  # not cached (or no hub client): no folder to hash
        return None


def model_identity(name: str, folder: Path | None) -> dict[str, Any]:
    """The configured name plus the sha256 of every file of its folder that can change the
    embeddings (weights, configs, tokenizer). The absolute path is left out on purpose: the
    same files in another environment give the same identity."""
    files: dict[str, str] = {}
    if folder is not None:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if (
                path.is_dir()
                or path.name in _IGNORED_MODEL_FILES
                or _IGNORED_MODEL_DIRS & set(rel.parts[:-1])
            ):
                continue
            files[rel.as_posix()] = _file_digest(path)
    return {"name": name, "files": files}


class Embedder:
    """A sentence-transformers model with the configured prefixes, giving L2-normalised
    float32 vectors. Query encoding is serialised with a lock: a Hugging Face fast tokenizer
    is not safe to call from several threads at once ("Already borrowed"), and on a CPU the
    forward pass already uses every core, so running two at once would not be faster."""

    def __init__(
        self,
        name: str,
        device: str = "cpu",
        batch_size: int = 64,
        query_prefix: str = "",
        passage_prefix: str = "",
        dtype: str = "auto",
        max_seq_length: int | None = None,
    ):
        import torch
        from sentence_transformers import SentenceTransformer

        from elmtex.hardware import resolve_dtype

        dtype = resolve_dtype(dtype, device)  # auto: bf16 only where it is native
        if dtype not in DTYPES:
            raise RetrieverError(f"retriever.dtype must be one of {DTYPES}, got {dtype!r}")
        self.name, self.dtype = name, dtype
        self.path = resolve_embedding_model(name)
        try:
            self.model = SentenceTransformer(
                self.path, device=device, model_kwargs={"dtype": getattr(torch, dtype)}
            )
        except Exception as e:  # whatever went wrong: say which model and why, in one line
            hint = (
                " (HF_HUB_OFFLINE=1 is set: set HF_HUB_OFFLINE=0 to download a hub model)"
                if os.environ.get("HF_HUB_OFFLINE") == "1"
                else ""
            )
            raise RetrieverError(
                f"cannot load embedding model {name!r} ({self.path}): "
                f"{type(e).__name__}: {' '.join(str(e).split())}{hint}"
            ) from None
        self.device, self.batch_size = device, batch_size
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        if max_seq_length is not None:
            limit = _position_limit(self.model)
            if max_seq_length < 1 or (limit is not None and max_seq_length > limit):
                raise RetrieverError(
                    f"retriever.max_seq_length must be between 1 and {limit} "
                    f"for {name}, got {max_seq_length}"
                )
            self.model.max_seq_length = max_seq_length
        self.dim = int(self.model.get_embedding_dimension())
        self.max_seq_length = int(self.model.max_seq_length)
        self._lock = threading.Lock()

    def identity(self) -> dict[str, Any]:
        """What the stored passage vectors depend on, model-wise."""
        ident = model_identity(self.name, model_folder(self.name, self.path))
        ident["max_seq_length"] = self.max_seq_length
        ident["dtype"] = self.dtype
        return ident

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        vecs = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str], progress: bool = True) -> np.ndarray:
        with self._lock:
            return self._encode([self.passage_prefix + t for t in texts], progress)

    def embed_query(self, text: str) -> tuple[np.ndarray, float]:
        """(1 x dim vector, seconds spent waiting for the model lock)."""
        t0 = time.perf_counter()
        with self._lock:
            waited = time.perf_counter() - t0
            return self._encode([self.query_prefix + text], False), waited


def _position_limit(model) -> int | None:
    """The most tokens the model's position embeddings allow, if it says."""
    try:
        return int(model[0].auto_model.config.max_position_embeddings)
    except (AttributeError, TypeError, ValueError, IndexError, KeyError):
        return None


# --- fingerprints ------------------------------------------------------------------------------


def records_digest(ids: Sequence[str], texts: Sequence[str]) -> str:
    """sha256 over the indexed (id, text) pairs in index order."""
    h = hashlib.sha256()
    for rid, text in zip(ids, texts, strict=True):
        h.update(json.dumps([rid, text], ensure_ascii=False).encode("utf-8") + b"\n")
    return h.hexdigest()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def embedding_fingerprint(records_sha: str, model: dict[str, Any], passage_prefix: str) -> str:
    """Everything the stored embeddings depend on. The query prefix is left out: it changes
    the queries, not the stored passages."""
    return json_sha256(
        {
            "records": records_sha,
            "model": model,
            "passage_prefix": passage_prefix,
            "normalize": True,
            "sentence_transformers": _version("sentence-transformers"),
        }
    )


def index_fingerprint(embeddings_fp: str, settings: dict[str, Any]) -> str:
    """The embeddings plus what building the index depends on (type, nlist). nprobe is a
    search-time setting and is applied on load, so changing it needs no rebuild."""
    return json_sha256(
        {
            "embeddings": embeddings_fp,
            "index": settings,
            "faiss": _version("faiss-cpu") or _version("faiss-gpu"),
        }
    )


# --- index -------------------------------------------------------------------------------------


def effective_index_settings(
    kind: str, nlist: int, nprobe: int, n: int
) -> tuple[dict[str, Any], str | None]:
    """The settings an index over n vectors is built with, and a note if one was clamped.

    IVF training needs at least nlist vectors; with fewer, nlist is clamped to n (and nprobe
    to nlist) instead of failing, and the note says so."""
    if kind not in INDEX_TYPES:
        raise RetrieverError(f"retriever.index.type must be one of {INDEX_TYPES}, got {kind!r}")
    if kind == "flat":
        return {"type": "flat"}, None
    if nlist < 1 or nprobe < 1:
        raise RetrieverError(
            f"retriever.index.nlist and nprobe must be >= 1 (got {nlist}, {nprobe})"
        )
    note = None
    if n < nlist:
        note = f"only {n} vectors for nlist {nlist}: IVF built with nlist {n}"
        nlist = n
    if nprobe > nlist:
        note = (note + "; " if note else "") + f"nprobe {nprobe} clamped to nlist {nlist}"
        nprobe = nlist
    return {"type": "ivf", "nlist": nlist, "nprobe": nprobe}, note


def build_index(vectors: np.ndarray, settings: dict[str, Any]):
    """A FAISS inner-product index over the (L2-normalised) vectors."""
    import faiss

    dim = vectors.shape[1]
    if settings["type"] == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, settings["nlist"], faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
    index.add(vectors)
    return index


def save_vectors(path: Path, vectors: np.ndarray) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, vectors)

    atomic_write(path, write)


def save_index(path: Path, index) -> None:
    import faiss

    atomic_write(path, lambda tmp: faiss.write_index(index, tmp))


# --- search ------------------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """The form in which two reports count as identical: Unicode NFC, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def select_hits(
    scores: Iterable[float], positions: Iterable[int], excluded: set[int], k: int
) -> list[tuple[int, float]]:
    """The first k (position, score) pairs of a FAISS result row that are real hits (FAISS
    pads with -1) and not excluded."""
    hits = []
    for score, pos in zip(scores, positions, strict=True):
        pos = int(pos)
        if pos < 0 or pos in excluded:
            continue
        hits.append((pos, float(score)))
        if len(hits) == k:
            break
    return hits


@dataclass
class LanguageIndex:
    """The indexed training records of one language."""

    lang: str
    records: list[dict]
    index: Any
    settings: dict[str, Any]
    input_key: str  # the key of the text that was embedded
    fingerprint: str = ""  # of the index: records, model files, passage prefix, build settings
    position_of_id: dict[str, int] = field(init=False)
    positions_of_text: dict[str, list[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.position_of_id = {r["id"]: i for i, r in enumerate(self.records)}
        self.positions_of_text = {}
        for i, r in enumerate(self.records):
            self.positions_of_text.setdefault(normalise_text(r[self.input_key]), []).append(i)

    def excluded_positions(self, report: str, exclude_ids: Iterable[str]) -> set[int]:
        """Records the query must not get back: those named by id, and those with its text."""
        out = {self.position_of_id[i] for i in exclude_ids if i in self.position_of_id}
        out.update(self.positions_of_text.get(normalise_text(report), ()))
        return out

    def search(self, query: np.ndarray, k: int, excluded: set[int]) -> list[tuple[int, float]]:
        """The k best (position, score) pairs, best first, none of them excluded. Asking FAISS
        for k + len(excluded) guarantees k when the language has that many records; an IVF
        search whose probed lists hold too few candidates is repeated over all lists."""
        n = self.index.ntotal
        want = min(k, n - len(excluded))
        if want <= 0:
            return []
        fetch = min(n, k + len(excluded))
        scores, positions = self.index.search(query, fetch)
        hits = select_hits(scores[0], positions[0], excluded, k)
        if len(hits) < want and self.settings["type"] == "ivf":
            import faiss

            params = faiss.SearchParametersIVF(nprobe=self.settings["nlist"])
            scores, positions = self.index.search(query, fetch, params=params)
            hits = select_hits(scores[0], positions[0], excluded, k)
        return hits


# --- the retriever -----------------------------------------------------------------------------


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Retriever:
    """One embedding model and one index per language, built or reused at start."""

    def __init__(
        self,
        embedder: Embedder,
        indexes: dict[str, LanguageIndex],
        task: Task,
        index_kind: str,
        split: str,
        passages: LanguageIndex | None = None,
        reranker: Any = None,
    ):
        self.embedder, self.indexes, self.task = embedder, indexes, task
        self.index_kind, self.split = index_kind, split
        self.passages, self.reranker = passages, reranker

    @classmethod
    def from_config(
        cls,
        cfg: dict,
        task: Task,
        log: Callable[[str], None] = _log,
        embedder: Embedder | None = None,
    ) -> Retriever:
        """Load the model (or take `embedder`, which must match the config), then open or
        build each language's index."""
        rc = cfg["retriever"]
        if rc["split"] == cfg["data"]["split"] and rc["split"] != "train":
            log(
                f"warning: retriever.split is {rc['split']!r}, the same split the stages "
                f"evaluate on: examples may come from the evaluation set"
            )
        data_dir = resolve_path(cfg["data"]["dir"])
        index_dir = resolve_path(rc["index_dir"])
        if embedder is None:
            embedder = Embedder(
                rc["embedding_model"],
                rc["device"],
                rc["batch_size"],
                rc["query_prefix"],
                rc["passage_prefix"],
                rc["dtype"],
                rc["max_seq_length"],
            )
        log(
            f"embedding model {embedder.name} ({embedder.path}), dim {embedder.dim}, "
            f"max_seq_length {embedder.max_seq_length}, {embedder.dtype} on {embedder.device}"
        )
        identity = embedder.identity()
        if not identity["files"]:
            log(
                f"warning: no local files found for {embedder.name}: its stored index is "
                f"matched by the model's name alone (a changed model will not rebuild it)"
            )
        indexes = {}
        for lang in cfg["data"]["langs"]:
            # data.limit is for the stages' evaluation records; the index holds the whole split.
            records = load_split(data_dir, [lang], rc["split"], task, limit=None)
            if not records:
                raise RetrieverError(
                    f"{data_dir / lang / (rc['split'] + '.jsonl')} holds no records to index"
                )
            indexes[lang] = _open_language(
                lang,
                records,
                task.input_key,
                embedder,
                identity,
                rc["index"],
                index_dir / lang,
                log,
            )
        passages, reranker = None, None
        pc = rc["passages"]
        if pc["path"]:
            path = resolve_path(pc["path"])
            collection = [dict(p, _text=passage_text(p)) for p in load_passages(path)]
            log(f"passages: {len(collection)} from {path}")
            passages = _open_language(
                "passages",
                collection,
                "_text",
                embedder,
                identity,
                rc["index"],
                index_dir / "passages",
                log,
            )
            reranker = make_reranker(
                pc["reranker"], [p["_text"] for p in collection], pc["reranker_model"], rc["device"]
            )
        return cls(embedder, indexes, task, rc["index"]["type"], rc["split"], passages, reranker)

    def health(self) -> dict[str, Any]:
        settings = {lang: ix.settings for lang, ix in self.indexes.items()}
        first = next(iter(settings.values()))
        # IVF settings can differ by language where nlist was clamped for a small one.
        index = (
            first
            if all(s == first for s in settings.values())
            else {"type": self.index_kind, "per_language": settings}
        )
        return {
            "status": "ok",
            "languages": {lang: ix.index.ntotal for lang, ix in self.indexes.items()},
            "split": self.split,
            "model": self.embedder.name,
            "dim": self.embedder.dim,
            "dtype": self.embedder.dtype,
            "max_seq_length": self.embedder.max_seq_length,
            "query_prefix": self.embedder.query_prefix,
            "passage_prefix": self.embedder.passage_prefix,
            "index": index,
            # Changes whenever the served examples could: clients may record it with a run.
            "fingerprints": {lang: ix.fingerprint for lang, ix in self.indexes.items()},
            "passages": None
            if self.passages is None
            else {
                "count": self.passages.index.ntotal,
                "fingerprint": self.passages.fingerprint,
                "reranker": getattr(self.reranker, "name", None),
                "reranker_model": getattr(self.reranker, "model_name", None),
            },
        }

    def retrieve(
        self, report: str, k: int, lang: str, exclude_ids: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The k nearest training records of `lang` (not the query itself), best first."""
        ix = self.indexes[lang]
        t0 = time.perf_counter()
        query, waited = self.embedder.embed_query(report)
        t1 = time.perf_counter()
        hits = ix.search(query, k, ix.excluded_positions(report, exclude_ids))
        t2 = time.perf_counter()
        examples = [
            {
                "id": ix.records[p]["id"],
                "report": ix.records[p][self.task.input_key],
                "summary": ix.records[p][self.task.output_key],
                "score": score,
            }
            for p, score in hits
        ]
        out: dict[str, Any] = {"examples": examples}
        if len(examples) < k:  # said, not silent: the language has too few other records
            out["warning"] = (
                f"only {len(examples)} of k={k} examples: {lang} has "
                f"{len(ix.records)} records, {k - len(examples)} too few after "
                "excluding the query"
            )
        return {
            **out,
            "timing": {
                "embed_ms": round((t1 - t0 - waited) * 1000, 3),
                "queue_ms": round(waited * 1000, 3),
                "search_ms": round((t2 - t1) * 1000, 3),
            },
        }

    def retrieve_passages(self, query: str, k: int, rerank_to: int | None = None) -> dict[str, Any]:
        """The k passages nearest to `query`, best first; with `rerank_to`, those k reranked
        and cut to the best `rerank_to`."""
        if self.passages is None:
            raise RequestError(
                "this service has no passage collection (start it with retriever.passages.path set)"
            )
        if rerank_to is not None and self.reranker is None:
            raise RequestError(
                "'rerank_to' given, but this service has no reranker "
                "(retriever.passages.reranker is none)"
            )
        ix = self.passages
        t0 = time.perf_counter()
        query_vec, waited = self.embedder.embed_query(query)
        t1 = time.perf_counter()
        hits = ix.search(query_vec, k, set())
        t2 = time.perf_counter()
        if rerank_to is not None:
            ranked = rerank(hits, self.reranker.scores(query, [p for p, _ in hits]), rerank_to)
        else:
            ranked = [(p, score, None) for p, score in hits]
        t3 = time.perf_counter()
        dense_rank = {p: i + 1 for i, (p, _) in enumerate(hits)}
        passages = [
            {
                "id": ix.records[p]["id"],
                "title": ix.records[p].get("title"),
                "text": ix.records[p]["text"],
                "score": score,
                "rerank_score": rerank_score,
                "dense_rank": dense_rank[p],
            }
            for p, score, rerank_score in ranked
        ]
        want = k if rerank_to is None else rerank_to
        warn = (
            {
                "warning": f"only {len(passages)} of {want} passages: the collection has "
                f"{len(ix.records)}"
            }
            if len(passages) < want
            else {}
        )
        return {
            "passages": passages,
            **warn,
            "timing": {
                "embed_ms": round((t1 - t0 - waited) * 1000, 3),
                "queue_ms": round(waited * 1000, 3),
                "search_ms": round((t2 - t1) * 1000, 3),
                "rerank_ms": round((t3 - t2) * 1000, 3),
            },
        }


def _open_language(
    lang: str,
    records: list[dict],
    text_key: str,
    embedder: Embedder,
    identity: dict,
    index_cfg: dict,
    folder: Path,
    log: Callable[[str], None],
) -> LanguageIndex:
    """Reuse the stored embeddings and index whose fingerprints match, build what is missing,
    and remove the stale files of earlier settings."""
    texts = [r[text_key] for r in records]
    ids = [r["id"] for r in records]
    emb_fp = embedding_fingerprint(records_digest(ids, texts), identity, embedder.passage_prefix)
    settings, note = effective_index_settings(
        index_cfg["type"], index_cfg["nlist"], index_cfg["nprobe"], len(records)
    )
    if note:
        log(f"[{lang}] note: {note}")
    build_settings = {k: v for k, v in settings.items() if k != "nprobe"}
    ix_fp = index_fingerprint(emb_fp, build_settings)
    emb_path = folder / f"embeddings-{emb_fp[:16]}.npy"
    ix_path = folder / f"index-{settings['type']}-{ix_fp[:16]}.faiss"

    index = None
    if ix_path.is_file():
        index = _read_index(ix_path, len(records), embedder.dim, log)
        if index is not None:
            log(f"[{lang}] reusing index {ix_path} ({index.ntotal} vectors)")
    if index is None:
        vectors = None
        if emb_path.is_file():
            vectors = _read_vectors(emb_path, len(records), embedder.dim, log)
            if vectors is not None:
                log(f"[{lang}] reusing embeddings {emb_path} ({len(vectors)} vectors)")
        if vectors is None:
            log(f"[{lang}] embedding {len(records)} records ...")
            t0 = time.perf_counter()
            vectors = embedder.embed_passages(texts)
            dt = time.perf_counter() - t0
            log(
                f"[{lang}] embedded {len(texts)} records in {dt:.1f} s "
                f"({len(texts) / dt:.0f} texts/s)"
            )
            save_vectors(emb_path, vectors)
        t0 = time.perf_counter()
        index = build_index(vectors, settings)
        save_index(ix_path, index)
        log(
            f"[{lang}] built {settings['type']} index {ix_path} in {time.perf_counter() - t0:.2f} s"
        )
    if settings["type"] == "ivf":
        import faiss

        faiss.extract_index_ivf(index).nprobe = settings["nprobe"]
    write_json(
        folder / "meta.json",
        {
            "lang": lang,
            "records": len(records),
            "embeddings": emb_path.name,
            "index": ix_path.name,
            "settings": settings,
            "model": identity["name"],
            "passage_prefix": embedder.passage_prefix,
            "embedding_fingerprint": emb_fp,
            "index_fingerprint": ix_fp,
        },
    )
    # Files of earlier settings go (temp files are left alone: another process sharing the
    # folder may be writing one right now).
    for stale in folder.iterdir():
        if stale.suffix in (".npy", ".faiss") and stale not in (emb_path, ix_path):
            stale.unlink(missing_ok=True)
    return LanguageIndex(lang, records, index, settings, text_key, ix_fp)


def _read_vectors(path: Path, n: int, dim: int, log: Callable[[str], None]) -> np.ndarray | None:
    try:
        vectors = np.load(path)
    except (OSError, ValueError) as e:
        log(f"warning: cannot read {path} ({e}); embedding again")
        return None
    if vectors.shape != (n, dim) or vectors.dtype != np.float32:
        log(
            f"warning: {path} holds {vectors.shape} {vectors.dtype}, expected ({n}, {dim}) "
            f"float32; embedding again"
        )
        return None
    return vectors


def _read_index(path: Path, n: int, dim: int, log: Callable[[str], None]):
    import faiss

    try:
        index = faiss.read_index(str(path))
    except RuntimeError as e:
        log(f"warning: cannot read {path} ({str(e).splitlines()[0]}); rebuilding it")
        return None
    if index.ntotal != n or index.d != dim:
        log(
            f"warning: {path} holds {index.ntotal} x {index.d}, expected {n} x {dim}; rebuilding it"
        )
        return None
    return index
