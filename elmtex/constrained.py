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
(`generation.json_whitespace`) takes that road away:

- `spaced` (default): one fixed layout, `{"a": "x", "b": ["y", "z"]}` (Python's json.dumps
  default: a space after each colon and comma, nowhere else);
- `compact`: no whitespace between JSON tokens at all (`{"a":"x","b":[]}`);
- `none`: any whitespace (no guard).

With `spaced` and `compact`, a value holds only single spaces between non-space characters.
Why `spaced` and not `compact` by default: held to compact JSON, the 0.5B demo model answered
"N/A" in every field of every demo record; in the spaced layout it writes the answers it writes
unconstrained (docs/results.md, "Constrained decoding"). A bounded amount of free whitespace
cannot be had instead: llguidance treats the whitespace between JSON tokens as a lexeme that may
repeat, so a pattern like `[ \n]{1,10}` still lets a model write spaces forever.

A constrained model can also loop inside a value (the 135M test model repeats a sentence until
max_new_tokens), and an answer cut off there does not parse. On the transformers backend the
token budget closes the answer instead: once the tokens left are no more than it takes to write
the rest of the object with every remaining value empty (`closing_reserve`), each row is held
to the shortest way out: inside a string, only tokens that end it; between values, only JSON
punctuation (where the grammar allows any); keys, which the grammar dictates, as they come. Such
an answer parses, fits the schema, keeps what was written before the budget ran short, and its
finish reason is `budget` (counted like `length` in the reports). vLLM has no such hook: there a
run-away answer still ends at `length`.
"""

from __future__ import annotations

import json
from typing import Any

from elmtex.task import Task

WHITESPACE_MODES = ("spaced", "compact", "none")
# llguidance's fixed-layout settings per guard (`x-guidance` in the schema; its README swaps the
# two separators' descriptions: item_separator goes between members, key_separator after keys).
LAYOUTS = {
    "spaced": {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "},
    "compact": {"whitespace_flexible": False},
}

# A value is empty or words separated by single spaces: no newline, tab, run of spaces, or
# leading or trailing space (each would be a place for a whitespace loop). "fever; cough" fits.
VALUE_PATTERN = r"^(\S+( \S+)*)?$"


def task_json_schema(
    task: Task, whitespace: str = "spaced", max_value_chars: int | None = None
) -> dict[str, Any]:
    """The JSON schema of one answer of `task`, with the whitespace guard unless `whitespace` is
    "none": a value pattern, and llguidance's `x-guidance` whitespace setting, which vLLM's
    guidance backend reads too (other engines ignore it)."""
    if whitespace not in WHITESPACE_MODES:
        raise ValueError(
            f"generation.json_whitespace must be one of {WHITESPACE_MODES}, got {whitespace!r}."
        )
    guard = whitespace != "none"
    properties: dict[str, Any] = {}
    for f in task.fields:
        value: dict[str, Any] = {"type": "string"}
        if guard:
            value["pattern"] = VALUE_PATTERN
        if max_value_chars:  # a model that loops inside a string must still close it
            value["maxLength"] = int(max_value_chars)
        if f.type == "choice":
            value = {"type": "string", "enum": list(f.choices)}
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
        schema["x-guidance"] = dict(LAYOUTS[whitespace])
    return schema


def schema_from_config(cfg: dict) -> dict[str, Any] | None:
    """The guarded schema of the configured task when `generation.constrained` is on, else None."""
    g = cfg["generation"]
    if not g.get("constrained"):
        return None
    from elmtex.task import load_task

    return task_json_schema(
        load_task(cfg["task"]), g.get("json_whitespace", "spaced"), g.get("max_value_chars")
    )


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
        raise ValueError(
            "Constrained decoding needs a fast (Rust) Hugging Face tokenizer; "
            f"{type(hf_tokenizer).__name__} is not one."
        )
    return llguidance.hf.from_tokenizer(
        hf_tokenizer, n_vocab=max(vocab_size, len(hf_tokenizer)), eos_token=sorted(stop_ids)
    )


class TokenClasses:
    """What the budget closing needs to know of a vocabulary, worked out once per tokenizer:
    each token's text; the tokens that start with a quote (inside a string: they end it); and
    between values the tokens that close a list or object (`]`, `}`, `],` ...: no quote, so
    nothing opens) and the bare quotes `"` and `""` (a value opens, and closes at once)."""

    def __init__(self, hf_tokenizer: Any, vocab_size: int):
        import torch

        self.texts = hf_tokenizer.batch_decode([[i] for i in range(len(hf_tokenizer))])
        # Logit rows may be wider than the tokenizer's vocabulary (Qwen pads them): no token.
        texts = self.texts[:vocab_size] + [""] * max(0, vocab_size - len(self.texts))

        def mask(test) -> Any:  # one tensor from a Python list: no per-element tensor writes
            return torch.tensor([test(t) for t in texts], dtype=torch.bool)

        self.closes_string = mask(lambda t: t.startswith('"'))
        self.closes_container = mask(
            lambda t: ("]" in t or "}" in t) and not t.strip(" ]},") and not t.startswith(",")
        )
        self.empty_value = mask(lambda t: t.strip(" ") in ('"', '""'))


def closing_reserve(schema: dict[str, Any], hf_tokenizer: Any) -> int:
    """Tokens it takes to finish an answer from any point: the whole object with every value
    empty, in the schema's layout, with a quarter more and a few tokens to spare (the grammar
    may spell a key in more tokens than the tokenizer would; a closing quote; the stop token)."""
    layout = schema.get("x-guidance") or {}
    item_sep, key_sep = layout.get("item_separator", ", "), layout.get("key_separator", ": ")
    empty = {k: [] if p.get("type") == "array" else "" for k, p in schema["properties"].items()}
    text = json.dumps(empty, separators=(item_sep, key_sep))
    return len(hf_tokenizer(text, add_special_tokens=False).input_ids) * 5 // 4 + 8


class SchemaLogitsProcessor:
    """A transformers logits processor for one batched `generate` call: every row has its own
    llguidance matcher, advanced by the row's last token and asked for the next token mask.

    transformers calls it once per step with the sequences so far (the first call sees only the
    prompts) and runs it before temperature and top-p, so sampling only sees allowed tokens.
    A row that has written a stop token is finished: transformers pads it from then on, and its
    scores are left alone (an all-masked row would turn the softmax into NaN).

    With `max_new_tokens`, `reserve` and `classes` set, rows close their answer when the budget
    runs short (see the module docstring); `closed` says which rows did."""

    def __init__(
        self,
        ll_tokenizer: Any,
        grammar: str,
        batch_size: int,
        stop_ids: set[int],
        max_new_tokens: int | None = None,
        reserve: int = 0,
        classes: TokenClasses | None = None,
    ):
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
        self.closing_step = (
            None if max_new_tokens is None or classes is None else max(0, max_new_tokens - reserve)
        )
        self.classes = classes
        self.step = 0
        self.in_string = [False] * batch_size  # JSON lexer state of each row's answer so far
        self.escaped = [False] * batch_size
        self.closed = [False] * batch_size

    def _track(self, i: int, token: int) -> None:
        """Advance row i's string state by the token's text (only needed for closing)."""
        for ch in self.classes.texts[token] if token < len(self.classes.texts) else "":
            if self.escaped[i]:
                self.escaped[i] = False
            elif ch == "\\" and self.in_string[i]:
                self.escaped[i] = True
            elif ch == '"':
                self.in_string[i] = not self.in_string[i]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self.started:  # the previous step's tokens: advance each row's matcher
            for i, token in enumerate(input_ids[:, -1].tolist()):
                if self.finished[i]:
                    continue
                if token in self.stop_ids:
                    self.finished[i] = True
                    continue
                if not self.matchers[i].consume_token(token):
                    raise RuntimeError(
                        f"constrained decoding: row {i} took token {token} that "
                        f"its grammar refuses: {self.matchers[i].get_error()}"
                    )
                if self.classes is not None:
                    self._track(i, token)
            self.step += 1
        self.started = True
        rows = [i for i, done in enumerate(self.finished) if not done]
        if not rows:
            return scores
        for i in rows:
            row = self.bitmask[i]
            self.matchers[i].unsafe_compute_mask_ptr(row.ctypes.data, row.nbytes)
        allowed = unpack_bitmask(torch.from_numpy(self.bitmask[rows]), scores.shape[-1])
        if self.closing_step is not None and self.step >= self.closing_step:
            allowed = self._closing(rows, allowed)
        index = torch.tensor(rows, device=scores.device)
        scores[index] = scores[index].masked_fill(~allowed.to(scores.device), float("-inf"))
        return scores

    def _closing(self, rows: list[int], allowed: Any) -> Any:
        """Narrow each row's allowed tokens to the shortest way out, where the grammar leaves a
        choice: inside a string the tokens that end it; between values a closing bracket, else
        a bare quote (so a value opens and closes empty)."""
        width = allowed.shape[-1]
        c = self.classes
        for k, i in enumerate(rows):
            order = (c.closes_string,) if self.in_string[i] else (c.closes_container, c.empty_value)
            for cls in order:
                narrowed = allowed[k] & cls[:width]
                if narrowed.any():  # else (a key, the stop token): the grammar's own choice
                    allowed[k] = narrowed
                    self.closed[i] = True
                    break
        return allowed


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
        out = dict(generation)
        if out.get("max_value_chars") is None:  # caches from before the key keep their print
            out.pop("max_value_chars", None)
        return out
    return {
        k: v
        for k, v in generation.items()
        if k not in ("constrained", "json_whitespace", "max_value_chars")
    }
