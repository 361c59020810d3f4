"""Schema-constrained decoding: the JSON schema of a task's answer, and the token masks that let
a transformers model write nothing else.

The schema comes from the task file (elmtex/task.py): one property per field, in the task's
order, a string for a `str` field and a list of strings for a `list` field, every field required,
no other keys. The vllm and openai backends hand it to vLLM's structured outputs; the
transformers backend builds its token masks with llguidance (the grammar engine behind vLLM's
`guidance` backend), one matcher per batch row.

A constrained model can no longer break the JSON, but it can still stall inside it: a small
model that may write any whitespace between JSON tokens, or inside a value, may loop on spaces
or newlines until max_new_tokens and leave the object unfinished. The whitespace guard
(`generation.json_whitespace: compact`) takes that road away: no whitespace between JSON tokens
(`{"a":"x","b":[]}`) and, inside a value, only single spaces between non-space characters.
"""

from __future__ import annotations

import json
from typing import Any

from elmtex.task import Task

WHITESPACE_MODES = ("compact", "none")

# A value is empty or words separated by single spaces: no newline, tab, run of spaces, or
# leading or trailing space (each would be a place for a whitespace loop). "fever; cough" fits.
VALUE_PATTERN = r"^(\S+( \S+)*)?$"


def task_json_schema(task: Task, whitespace: str = "compact") -> dict[str, Any]:
    """The JSON schema of one answer of `task`, with the whitespace guard when `whitespace` is
    "compact" (a value pattern, and llguidance's `x-guidance` switch for compact JSON)."""
    if whitespace not in WHITESPACE_MODES:
        raise ValueError(f"generation.json_whitespace must be one of {WHITESPACE_MODES}, "
                         f"got {whitespace!r}.")
    guard = whitespace == "compact"
    properties: dict[str, Any] = {}
    for f in task.fields:
        value: dict[str, Any] = {"type": "string"}
        if guard:
            value["pattern"] = VALUE_PATTERN
        prop = {"type": "array", "items": value} if f.type == "list" else dict(value)
        if f.description:
            prop["description"] = f.description
        properties[f.name] = prop
    schema: dict[str, Any] = {
        "title": task.name,
        "type": "object",
        "properties": properties,
        "required": task.field_names,
        "additionalProperties": False,
    }
    if guard:
        # Read by llguidance (here, and in vLLM's guidance backend); other engines ignore it.
        schema["x-guidance"] = {"whitespace_flexible": False}
    return schema


def schema_from_config(cfg: dict) -> dict[str, Any] | None:
    """The guarded schema of the configured task when `generation.constrained` is on, else None."""
    g = cfg["generation"]
    if not g.get("constrained"):
        return None
    from elmtex.task import load_task

    return task_json_schema(load_task(cfg["task"]), g.get("json_whitespace", "compact"))


def llguidance_grammar(schema: dict[str, Any]) -> str:
    """The llguidance grammar of a JSON schema; a schema it cannot compile is a ValueError."""
    import llguidance

    grammar = llguidance.LLMatcher.grammar_from_json_schema(json.dumps(schema))
    error = llguidance.LLMatcher.validate_grammar(grammar)
    if error:
        raise ValueError(f"llguidance cannot compile the task's JSON schema: {error}")
    return grammar


def llguidance_tokenizer(hf_tokenizer: Any, vocab_size: int, stop_ids: list[int]) -> Any:
    """llguidance's view of a fast Hugging Face tokenizer (about a second: cache it).

    `vocab_size` is the width of the model's logits, which may exceed the tokenizer's
    vocabulary (Qwen pads it); `stop_ids` are the tokens that may end a finished answer."""
    import llguidance.hf

    if not getattr(hf_tokenizer, "is_fast", False):
        raise ValueError("Constrained decoding needs a fast (Rust) Hugging Face tokenizer; "
                         f"{type(hf_tokenizer).__name__} is not one.")
    return llguidance.hf.from_tokenizer(hf_tokenizer, n_vocab=max(vocab_size, len(hf_tokenizer)),
                                        eos_token=sorted(stop_ids))


class SchemaLogitsProcessor:
    """A transformers logits processor for one batched `generate` call: every row has its own
    llguidance matcher, advanced by the row's last token and asked for the next token mask.

    transformers calls it once per step with the sequences so far (the first call sees only the
    prompts) and runs it before temperature and top-p, so sampling only sees allowed tokens.
    A row that has written a stop token is finished: transformers pads it from then on, and its
    scores are left alone (an all-masked row would turn the softmax into NaN)."""

    def __init__(self, ll_tokenizer: Any, grammar: str, batch_size: int, stop_ids: set[int]):
        import llguidance
        import numpy as np

        template = llguidance.LLMatcher(ll_tokenizer, grammar, log_level=0)
        if template.is_error():
            raise ValueError(f"llguidance grammar error: {template.get_error()}")
        # A copy is cheaper than compiling the grammar again for every row.
        self.matchers = [template.deep_copy() for _ in range(batch_size)]
        self.stop_ids = set(stop_ids)
        self.finished = [False] * batch_size
        self.started = False
        self.bitmask = np.full((batch_size, (ll_tokenizer.vocab_size + 31) // 32), -1, np.int32)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self.started:  # the previous step's tokens: advance each row's matcher
            for i, token in enumerate(input_ids[:, -1].tolist()):
                if self.finished[i]:
                    continue
                if token in self.stop_ids:
                    self.finished[i] = True
                elif not self.matchers[i].consume_token(token):
                    raise RuntimeError(f"constrained decoding: row {i} took token {token} that "
                                       f"its grammar refuses: {self.matchers[i].get_error()}")
        self.started = True
        rows = [i for i, done in enumerate(self.finished) if not done]
        if not rows:
            return scores
        for i in rows:
            row = self.bitmask[i]
            self.matchers[i].unsafe_compute_mask_ptr(row.ctypes.data, row.nbytes)
        allowed = unpack_bitmask(torch.from_numpy(self.bitmask[rows]), scores.shape[-1])
        index = torch.tensor(rows, device=scores.device)
        scores[index] = scores[index].masked_fill(~allowed.to(scores.device), float("-inf"))
        return scores

    def errors(self) -> list[str]:
        """The matchers' error messages (empty strings for healthy rows)."""
        return [m.get_error() for m in self.matchers]


def unpack_bitmask(bitmask: Any, vocab_size: int) -> Any:
    """(rows, ceil(V/32)) int32 bit words -> (rows, V) bool, bit j of word w = token 32*w + j.

    Plain tensor ops: llguidance.torch's own kernel is wrapped in torch.compile, which would
    need a C++ toolchain and a compile step on a CPU box."""
    import torch

    shifts = torch.arange(32, dtype=torch.int32)
    bits = (bitmask.unsqueeze(-1) >> shifts) & 1  # arithmetic shift; & 1 keeps the one bit
    return bits.reshape(bitmask.shape[0], -1)[:, :vocab_size].bool()


def decisive_generation(generation: dict[str, Any]) -> dict[str, Any]:
    """The generation settings for a cache fingerprint: an unconstrained run leaves out the
    constrained-decoding keys, so caches made before they existed keep their fingerprint."""
    if generation.get("constrained"):
        return dict(generation)
    return {k: v for k, v in generation.items() if k not in ("constrained", "json_whitespace")}
