"""In-context learning: the retriever service's client and the fitting of examples into the
model's context, for cache_results_advanced_icl.py.

The service (icl_retriever_app.py) answers `POST /retrieve` with the k training records most
similar to a report, best first. The prompt shows them as worked examples; if the prompt is
longer than the budget, examples are dropped from the least similar end until it fits.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from elmtex.backends import Backend, Conversation
from elmtex.config import UserError
from elmtex.local_models import resolve_model_path
from elmtex.prompts import PromptTemplate
from elmtex.task import Task

START_SCRIPT = "icl_retriever_app.py"


class RetrieverUnavailable(UserError):
    """No retriever service answers at the configured URL."""


class RetrieverError(UserError):
    """The retriever service answered, but with an error."""


def retriever_url(cfg: dict) -> str:
    """icl.url, or the address the service of the same config listens on."""
    if cfg["icl"]["url"]:
        return str(cfg["icl"]["url"]).rstrip("/")
    host = cfg["retriever"]["host"]
    if host in ("0.0.0.0", "::", ""):  # listening on every interface: reach it locally
        host = "127.0.0.1"
    return f"http://{host}:{cfg['retriever']['port']}"


def retriever_start_command(config_file: str | None, overrides: Sequence[str]) -> str:
    """The command that starts the service this config expects (same --config, and the --set
    values that the service reads: task, data.dir, data.langs, retriever.*)."""
    parts = ["python", START_SCRIPT]
    if config_file:
        parts += ["--config", config_file]
    for o in overrides:
        key = o.split("=", 1)[0].strip()
        if key in ("task", "data.dir", "data.langs") or key.startswith("retriever."):
            parts += ["--set", o]
    return shlex.join(parts)


class RetrieverClient:
    """HTTP client of the retriever service: `health()`, `retrieve(...)` (in-context examples)
    and `passages(...)` (a retrieval-augmented prompt's context)."""

    def __init__(
        self, url: str, timeout_s: float = 30.0, start_command: str = f"python {START_SCRIPT}"
    ):
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.start_command = start_command
        self.session = requests.Session()

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        target = self.url + path
        try:
            r = self.session.request(method, target, json=body, timeout=self.timeout_s)
        except requests.ConnectionError as e:
            raise RetrieverUnavailable(
                f"no retriever service answers at {target} ({type(e).__name__}). "
                f"Start it in another shell with: {self.start_command}  "
                "(or point icl.url at a running one)"
            ) from None
        except requests.Timeout:
            raise RetrieverUnavailable(
                f"the retriever service at {target} did not answer within {self.timeout_s} s "
                "(icl.timeout_s)."
            ) from None
        try:
            data = r.json()
        except ValueError:
            data = None
        if r.status_code != 200:
            msg = data.get("error") if isinstance(data, dict) else None
            raise RetrieverError(
                f"the retriever service at {target} answered HTTP {r.status_code}: "
                f"{msg or r.text[:300]}"
            )
        if not isinstance(data, dict):
            raise RetrieverError(f"the retriever service at {target} answered no JSON object.")
        return data

    def health(self) -> dict:
        return self._call("GET", "/health")

    def retrieve(
        self, report: str, k: int, lang: str, exclude_ids: Sequence[str] = ()
    ) -> list[dict]:
        """Up to k training records of language `lang` most similar to `report`, best first:
        dicts with id, report, summary (the gold object) and score."""
        data = self._call(
            "POST",
            "/retrieve",
            {"report": report, "k": int(k), "lang": lang, "exclude_ids": list(exclude_ids)},
        )
        examples = data.get("examples")
        if not isinstance(examples, list):
            raise RetrieverError(f"the retriever service at {self.url} answered no 'examples'.")
        if data.get("warning"):  # fewer than k: said once per kind, never silently
            _warn_once(f"retriever: {data['warning']}")
        return examples

    def passages(self, query: str, k: int, rerank_to: int | None = None) -> list[dict]:
        """Up to k passages of the service's collection nearest to `query`, best first (with
        `rerank_to`: reranked and cut to that many): dicts with id, title, text, score,
        rerank_score and dense_rank."""
        body: dict[str, Any] = {"query": query, "k": int(k)}
        if rerank_to is not None:
            body["rerank_to"] = int(rerank_to)
        passages = self._call("POST", "/passages", body).get("passages")
        if not isinstance(passages, list):
            raise RetrieverError(f"the retriever service at {self.url} answered no 'passages'.")
        return passages


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        print(f"warning: {message}", file=sys.stderr)


# Fields of /health that change while the same index is served: not part of a run's identity.
VOLATILE_HEALTH_KEYS = {
    "status",
    "ok",
    "uptime_s",
    "uptime",
    "requests",
    "pid",
    "started_at",
    "url",
    "host",
    "port",
    "time",
}


def retriever_identity(health: dict) -> dict:
    """What of the service's /health decides which examples come back (embedding model, index
    settings, corpus): stored in the run's manifest and checked on resume."""
    return {k: v for k, v in health.items() if k not in VOLATILE_HEALTH_KEYS}


# --------------------------------------------------------------------------- context fitting


@dataclass(frozen=True)
class PromptBudget:
    tokens: int | None  # the most prompt tokens allowed; None = no fitting
    reason: str  # one line for the log


def prompt_budget(cfg: dict, backend: Backend) -> PromptBudget:
    """icl.max_prompt_tokens, or the model's context length minus generation.max_new_tokens."""
    fixed = cfg["icl"]["max_prompt_tokens"]
    max_new = int(cfg["generation"]["max_new_tokens"])
    if fixed is not None:
        if int(fixed) <= 0:
            raise UserError(f"icl.max_prompt_tokens must be positive, got {fixed}.")
        return PromptBudget(int(fixed), f"{int(fixed)} prompt tokens (icl.max_prompt_tokens)")
    context = backend.context_length() if hasattr(backend, "context_length") else None
    if context is None:
        return PromptBudget(
            None,
            f"none: the {backend.name} backend does not know the model's "
            "context length; set icl.max_prompt_tokens to fit prompts",
        )
    if context <= max_new:
        raise UserError(
            f"generation.max_new_tokens ({max_new}) leaves no room for a prompt in "
            f"the model's context of {context} tokens."
        )
    return PromptBudget(
        context - max_new,
        f"{context - max_new} prompt tokens (model context "
        f"{context} - generation.max_new_tokens {max_new})",
    )


class _TokenizerCounter:
    """Counts a conversation's prompt tokens with the model's own tokenizer and chat template
    (for the openai backend, whose server does not say before answering)."""

    def __init__(self, path: str):
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)

    def __call__(self, conversation: Conversation) -> int:
        text = self.tokenizer.apply_chat_template(
            conversation, tokenize=False, add_generation_prompt=True
        )
        return len(self.tokenizer(text, add_special_tokens=False).input_ids)


def token_counter(
    backend: Backend, cfg: dict, budget: PromptBudget
) -> Callable[[Conversation], int] | None:
    """The backend's own prompt-token count; for a server backend, the model's tokenizer loaded
    locally, needed only when there is a budget to fit."""
    count = getattr(backend, "count_prompt_tokens", None)
    if count is not None or budget.tokens is None:
        return count
    name = cfg["model"]["name_or_path"]
    try:
        return _TokenizerCounter(resolve_model_path(name, cfg["model"]["models_dir"]))
    except (OSError, ValueError) as e:
        raise UserError(
            f"icl.max_prompt_tokens needs the prompt's token count, and the {backend.name} "
            f"backend cannot give it: loading the tokenizer of model.name_or_path={name} "
            f"locally failed ({type(e).__name__}: {str(e)[:200]}). Set model.name_or_path to "
            "the served model's folder or hub id, or icl.max_prompt_tokens=null."
        ) from None


def example_view(task: Task, example: dict) -> dict[str, Any]:
    """A retrieved example as the prompt shows it: its gold object as JSON in the task's key
    order, non-ASCII kept as is."""
    gold = example["summary"]
    ordered = {name: gold[name] for name in task.field_names if name in gold}
    return {
        "id": example["id"],
        "report": example["report"],
        "score": example.get("score"),
        "output": json.dumps(ordered, ensure_ascii=False),
    }


def render_prompt(
    template: PromptTemplate, task: Task, report: str, examples: list[dict]
) -> Conversation:
    """The advanced prompt for one report with these retrieved examples (best first)."""
    return template.render(task, report, examples=[example_view(task, e) for e in examples])


@dataclass
class FittedPrompt:
    conversation: Conversation
    examples: list[dict]  # the examples in the prompt, most similar first
    dropped: list[dict] = field(default_factory=list)  # left out to fit, most similar first
    prompt_tokens: int | None = None  # as counted while fitting; None = not counted
    over_budget: bool = False  # even without examples the prompt exceeds the budget

    def row_fields(self, retrieved: int, budget: int | None) -> dict[str, Any]:
        """What the cached row records about the examples."""
        return {
            "icl_example_ids": [e["id"] for e in self.examples],
            "icl_example_scores": [e.get("score") for e in self.examples],
            "icl_retrieved": retrieved,
            "icl_dropped": len(self.dropped),
            "icl_dropped_ids": [e["id"] for e in self.dropped],
            "icl_budget": budget,
            "icl_prompt_tokens": self.prompt_tokens,
            "icl_over_budget": self.over_budget,
        }


def fit_examples(
    render: Callable[[list[dict]], Conversation],
    examples: list[dict],
    budget: int | None,
    count_tokens: Callable[[Conversation], int] | None,
) -> FittedPrompt:
    """Render with all examples (most similar first), then drop from the least similar end until
    the prompt has at most `budget` tokens. If even zero examples exceed it, the zero-example
    prompt is returned with over_budget set: the report itself is never cut."""
    n = len(examples)
    while True:
        conversation = render(examples[:n])
        tokens = count_tokens(conversation) if count_tokens is not None else None
        if budget is None or tokens is None or tokens <= budget or n == 0:
            over = budget is not None and tokens is not None and tokens > budget
            return FittedPrompt(conversation, list(examples[:n]), list(examples[n:]), tokens, over)
        n -= 1
