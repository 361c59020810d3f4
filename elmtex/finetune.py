"""(Q)LoRA supervised fine-tuning: chat data, its pre-flight check, the model and the trainer.

The stages that use it:

    scripts/prepare_train_chat_data.py   train/val splits -> data/cache/finetune/<name>/*.jsonl
    finetune.py                          chat data -> models/<name>-lora/ (adapter, checkpoints)
    scripts/merge_model_lora.py          base + adapter -> models/<name>/ (a plain model folder)

One example is TRL's conversational prompt-completion record: `prompt` = the system and user
messages exactly as cache_results_naive.py sends them (the task's naive prompt, rendered with
PromptTemplate), `completion` = the gold JSON as the assistant's message. SFTTrainer tokenises
it (the prompt with the generation prompt, then prompt + completion, through the chat
template) and, with `completion_only_loss`, builds the labels from its completion mask: the
loss is on the answer and its end-of-turn token only. What TRL 1.16 does not do, and this
module does before training (the pre-flight check, `preflight`):
- it only warns, once, where the prompt's tokens are not a prefix of prompt + completion (a
  chat template that renders a prompt differently alone), then trains from where they diverge;
  here that record stops the run, named;
- it drops a record whose completion mask is empty only when it truncates, silently; here the
  record is named and the run stops;
- with padding-free batches it refuses `max_length` altogether, and it has no drop policy;
  here `finetune.overlong` drops or truncates (`cut_and_check`, after TRL's tokenisation),
  and the labels TRL built are compared with the pre-flight's counts, record by record.
(`assistant_only_loss` would need `{% generation %}` markers in the chat template: the Qwen2.5,
SmolLM2 and Llama 3.1 templates have none, and TRL patches only templates it knows verbatim.)
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elmtex.config import UserError, resolve_path
from elmtex.io import load_split, read_jsonl
from elmtex.local_models import resolve_model_path, sha256_file
from elmtex.prompts import PromptTemplate
from elmtex.task import Task

IGNORE = -100  # label of a token that is not trained on (PyTorch's cross-entropy ignore_index)
OVERLONG_POLICIES = ("drop", "truncate")
METHODS = ("lora", "qlora", "dora")  # finetune.method: the PEFT method trained
SUMMARY_FILE = "train_summary.json"  # written last by finetune.py: the adapter is complete
CONFIG_FILE = "finetune_config.json"  # what a --resume must match
LOG_FILE = "train_log.csv"


class FinetuneError(UserError, RuntimeError):
    """A fine-tuning stage cannot go on; the message says what to do."""


class LabelMaskError(FinetuneError):
    """Labels that would train on nothing (or on the prompt): almost always a chat template
    that renders the prompt differently alone than inside the whole conversation."""


# --------------------------------------------------------------------------- the base model
# (where each stage reads and writes: elmtex.runs.finetune_paths)


def base_model_path(cfg: dict) -> str:
    """The base model to fine-tune: `model.name_or_path` as the prompting stages load it."""
    models_dir = resolve_path(cfg["model"]["models_dir"])
    return resolve_model_path(cfg["model"]["name_or_path"], models_dir)


# --------------------------------------------------------------------------- chat data


def gold_answer(task: Task, summary: dict) -> str:
    """The assistant's answer: the gold object in the task's field order, compact JSON."""
    return json.dumps({f: summary[f] for f in task.field_names}, ensure_ascii=False)


def chat_example(task: Task, template: PromptTemplate, record: dict) -> dict:
    """One training example in TRL's conversational prompt-completion format, plus its id."""
    prompt = template.render(task, record[task.input_key])
    completion = [{"role": "assistant", "content": gold_answer(task, record[task.output_key])}]
    return {"id": record["id"], "lang": record["lang"], "prompt": prompt, "completion": completion}


def train_val_records(cfg: dict, task: Task) -> tuple[list[dict], list[dict]]:
    """The records to train on and to measure eval loss on, each in a seeded random order.

    With `finetune.val_split` null (the released ELMTEX data has only train and test), the
    first `val_limit` records per language of the shuffled train split are held out as val.
    """
    ft, data_dir, langs = cfg["finetune"], resolve_path(cfg["data"]["dir"]), cfg["data"]["langs"]
    if ft["val_split"]:
        train = load_split(data_dir, langs, ft["train_split"], task, ft["train_limit"])
        val = load_split(data_dir, langs, ft["val_split"], task, ft["val_limit"])
    else:
        if not ft["val_limit"]:
            raise FinetuneError(
                "finetune.val_split is null: set finetune.val_limit to the number "
                "of train records per language to hold out as val."
            )
        train, val = [], []
        for lang in langs:
            recs = load_split(data_dir, [lang], ft["train_split"], task)
            random.Random(ft["seed"]).shuffle(recs)
            val += recs[: ft["val_limit"]]
            rest = recs[ft["val_limit"] :]
            train += rest[: ft["train_limit"]] if ft["train_limit"] is not None else rest
    for rows in (train, val):
        random.Random(ft["seed"]).shuffle(rows)  # mix languages and specialties
    return train, val


def read_chat_file(path: Path) -> list[dict]:
    if not path.exists():
        raise FinetuneError(
            f"{path} not found. Run: python scripts/prepare_train_chat_data.py (same --config)"
        )
    rows = [row for _, row in read_jsonl(path)]
    for row in rows:
        prompt, completion = row.get("prompt"), row.get("completion")
        if not (
            isinstance(prompt, list)
            and prompt
            and isinstance(completion, list)
            and [m.get("role") for m in completion] == ["assistant"]
        ):
            raise FinetuneError(
                f"{path}: record {row.get('id')} is not a prompt-completion chat "
                "(a prompt, then one assistant message); regenerate it with "
                "scripts/prepare_train_chat_data.py"
            )
    return rows


# --------------------------------------------------------------------------- pre-flight check


def record_tokens(tokenizer: Any, row: dict) -> tuple[list[int], int]:
    """(token ids of prompt + completion, number of prompt tokens), tokenised as SFTTrainer
    tokenises a conversational prompt-completion record, and checked strictly.

    Refused, with the record's id: a prompt whose tokens are not a prefix of prompt +
    completion (TRL would warn once and train from where they diverge), an empty completion
    mask (nothing to train on), and a prompt that differs from what the naive stage sends (its
    rendered text tokenised without extra special tokens, as the transformers backend does).
    """
    rid = row.get("id")
    prompt_ids = tokenizer.apply_chat_template(
        row["prompt"], tokenize=True, return_dict=True, add_generation_prompt=True
    )["input_ids"]
    full_ids = tokenizer.apply_chat_template(
        row["prompt"] + row["completion"], tokenize=True, return_dict=True
    )["input_ids"]
    if full_ids[: len(prompt_ids)] != prompt_ids:
        raise LabelMaskError(
            f"record {rid}: the chat template renders the prompt differently alone (with the "
            "generation prompt) than inside prompt + completion, so the answer's tokens cannot "
            "be told from the prompt's; likely cause: a chat template mismatch (a template that "
            "rewrites earlier turns, or one without a generation prompt). Fix the chat template."
        )
    if len(full_ids) == len(prompt_ids):
        raise LabelMaskError(
            f"record {rid}: the completion mask is empty (prompt + completion has no token past "
            "the prompt), so it trains on nothing. Likely cause: a chat template mismatch (one "
            "that drops the assistant's turn); check the model's chat template."
        )
    sent = tokenizer(
        tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True),
        add_special_tokens=False,
    )["input_ids"]
    if sent != prompt_ids:
        raise LabelMaskError(
            f"record {rid}: the prompt trained on is not the prompt the naive "
            "stage sends (the tokenizer adds special tokens to chat templates)"
        )
    return full_ids, len(prompt_ids)


@dataclass
class Example:
    id: str
    input_ids: list[int]  # prompt + completion, cut at max_length where truncated
    n_prompt: int  # tokens before the answer
    n_total: int  # before any truncation
    truncated: bool = False

    @property
    def n_trained(self) -> int:
        """Tokens with a label: the completion mask's ones, after truncation."""
        return len(self.input_ids) - self.n_prompt


def tokenize_examples(rows: Iterable[dict], tokenizer: Any) -> list[Example]:
    out = []
    for row in rows:
        ids, n_prompt = record_tokens(tokenizer, row)
        out.append(Example(row["id"], ids, n_prompt, len(ids)))
    return out


def apply_length_policy(
    examples: list[Example], max_length: int | None, policy: str
) -> tuple[list[Example], dict[str, Any]]:
    """Keep what fits in `max_length` tokens. `drop` leaves overlong examples out; `truncate`
    cuts them at `max_length` (the answer loses its end, and with it the end-of-turn token).
    An example whose prompt alone fills `max_length` has no answer token left: dropped either way.
    """
    if policy not in OVERLONG_POLICIES:
        raise FinetuneError(f"finetune.overlong must be one of {OVERLONG_POLICIES}, got {policy!r}")
    report = {
        "max_length": max_length,
        "policy": policy,
        "overlong": 0,
        "dropped": 0,
        "truncated": 0,
        "dropped_ids": [],
    }
    if max_length is None:
        return examples, report
    kept = []
    for ex in examples:
        if ex.n_total <= max_length:
            kept.append(ex)
            continue
        report["overlong"] += 1
        if policy == "drop" or ex.n_prompt >= max_length:
            report["dropped"] += 1
            report["dropped_ids"].append(ex.id)
            continue
        kept.append(
            Example(ex.id, ex.input_ids[:max_length], ex.n_prompt, ex.n_total, truncated=True)
        )
        report["truncated"] += 1
    return kept, report


def preflight(
    rows: list[dict], tokenizer: Any, max_length: int | None, policy: str
) -> tuple[list[dict], list[Example], dict[str, Any]]:
    """(the rows to train on, their checked examples, the length report): every record
    tokenised and checked (`record_tokens`), then the `overlong` policy applied."""
    examples, report = apply_length_policy(tokenize_examples(rows, tokenizer), max_length, policy)
    keep = {e.id for e in examples}
    return [r for r in rows if r["id"] in keep], examples, report


def length_stats(values: list[int]) -> dict[str, float]:
    """min / mean / p95 / max (p95 by the nearest-rank method), or zeros for no values."""
    if not values:
        return {"n": 0, "min": 0, "mean": 0.0, "p95": 0, "max": 0}
    s = sorted(values)
    p95 = s[max(0, math.ceil(0.95 * len(s)) - 1)]
    return {"n": len(s), "min": s[0], "mean": round(sum(s) / len(s), 1), "p95": p95, "max": s[-1]}


def to_dataset(rows: list[dict]) -> Any:
    """A datasets.Dataset of prompt-completion records (and their ids) for SFTTrainer."""
    from datasets import Dataset

    return Dataset.from_list(
        [{"id": r["id"], "prompt": r["prompt"], "completion": r["completion"]} for r in rows]
    )


def cut_and_check(dataset: Any, examples: list[Example], max_length: int | None, what: str) -> Any:
    """SFTTrainer's tokenised dataset, cut at `max_length` (TRL leaves padding-free batches
    uncut), after checking it against the pre-flight record by record: the same tokens, and
    labels (from TRL's completion mask) on exactly the completion."""
    expected = {e.id: e for e in examples}

    def cut(row: dict) -> dict:
        ex = expected.get(row["id"])
        if ex is None:
            raise LabelMaskError(f"{what}: record {row['id']} was not pre-flight checked")
        ids, labels = row["input_ids"], row["labels"]
        if max_length is not None and len(ids) > max_length:
            ids, labels = ids[:max_length], labels[:max_length]
        trained = sum(1 for t in labels if t != IGNORE)
        if (
            ids != ex.input_ids
            or trained != ex.n_trained
            or any(t != IGNORE for t in labels[: ex.n_prompt])
        ):
            raise LabelMaskError(
                f"{what}: record {row['id']}: TRL's tokens or completion mask ({trained} labels) "
                f"differ from the pre-flight check's ({ex.n_trained}); check the chat template"
            )
        return {"input_ids": ids, "labels": labels}

    if len(dataset) != len(examples):
        raise LabelMaskError(f"{what}: SFTTrainer kept {len(dataset)} of {len(examples)} records")
    return dataset.map(cut, desc=f"Checking {what} against the pre-flight")


# --------------------------------------------------------------------------- attention


VARLEN_ATTENTION = "sdpa_varlen"


def register_varlen_attention() -> str:
    """Register `sdpa_varlen`: PyTorch SDPA run per sequence of a padding-free batch.

    A padding-free batch is one row holding several sequences (TRL's collator sends
    `position_ids` restarting at 0 and `cu_seq_lens_q`, the sequence boundaries). FlashAttention's
    varlen kernels take that directly, but they need a CUDA GPU. transformers' own `sdpa` handles
    the row correctly with a dense block-diagonal mask over the whole row: O(total length^2)
    memory and compute (over 10 GB for four 1,500-token records of SmolLM2), so a CPU gains
    nothing. Here causal SDPA runs once per sequence instead: no mask, no padding, attention cost
    sum(len_i^2). For training only (no KV cache): a padded batch gets the usual causal+padding
    mask, built from the 2D mask that FlashAttention-style masking hands over.
    """
    import torch
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.masking_utils import AttentionMaskInterface, flash_attention_mask

    def attention(
        module,
        query,
        key,
        value,
        attention_mask,
        dropout=0.0,
        scaling=None,
        is_causal=None,
        **kwargs,
    ):
        q_len, kv_len = query.shape[2], key.shape[2]
        if q_len != kv_len:
            raise NotImplementedError(f"{VARLEN_ATTENTION} is for training (no KV cache)")
        bounds = kwargs.get("cu_seq_lens_q")
        if attention_mask is None and bounds is not None:
            bounds = bounds.tolist()
            outs = [
                sdpa_attention_forward(
                    module,
                    query[:, :, s:e],
                    key[:, :, s:e],
                    value[:, :, s:e],
                    None,
                    dropout=dropout,
                    scaling=scaling,
                    is_causal=True,
                )[0]
                for s, e in zip(bounds[:-1], bounds[1:], strict=True)
                if e > s
            ]
            return torch.cat(outs, dim=1), None
        if attention_mask is not None:  # 2D padding mask -> causal & padding, 4D boolean
            causal = torch.ones(q_len, kv_len, dtype=torch.bool, device=query.device).tril()
            attention_mask = causal[None, None] & attention_mask[:, None, None, :].bool()
        return sdpa_attention_forward(
            module,
            query,
            key,
            value,
            attention_mask,
            dropout=dropout,
            scaling=scaling,
            is_causal=True,
        )

    AttentionInterface.register(VARLEN_ATTENTION, attention)
    # FlashAttention-style masks: None unless there is padding, then the 2D padding mask.
    AttentionMaskInterface.register(VARLEN_ATTENTION, flash_attention_mask)
    return VARLEN_ATTENTION


# --------------------------------------------------------------------------- model and adapter


QLORA_INSTALL = "pip install bitsandbytes==0.50.2 (a dependency of the package; CPU and CUDA)"


def require_bitsandbytes() -> None:
    """QLoRA's 4-bit layers come from bitsandbytes: an error that says how to install it."""
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as e:
        raise FinetuneError(
            f"finetune.method qlora loads the base model in 4 bits with "
            f"bitsandbytes, which does not import here ({e}). Install it: "
            f"{QLORA_INSTALL}."
        ) from e


def training_mode(method: str, cuda: bool, dtype: str) -> tuple[str, str]:
    """(mode, message). The mode is the method asked for, always: QLoRA runs wherever
    bitsandbytes does (CUDA GPUs and CPUs), and where it cannot, training stops instead of
    quietly training something else."""
    if method not in METHODS:
        raise FinetuneError(f"finetune.method must be one of {METHODS}, got {method!r}")
    where = "GPU" if cuda else "CPU"
    if method == "qlora":
        require_bitsandbytes()  # fail before anything is written, not after tokenising
    if method == "dora":
        return "dora", (
            f"DoRA on the {where}: each adapted weight is split into a magnitude and "
            "a direction; the magnitudes and a LoRA update of the direction train."
        )
    if method == "qlora":
        return "qlora", (
            f"QLoRA on the {where}: the base model is loaded 4-bit (bitsandbytes nf4, "
            f"double quantisation, {dtype} compute); LoRA adapters train on top."
        )
    return "lora", f"LoRA on the {where}: the base weights stay frozen, only the adapters train."


def quant_config(dtype: str) -> Any:
    """nf4 with double quantisation (the QLoRA recipe); `dtype` is what the 4-bit layers
    dequantise to and compute in: the hardware rule's choice (bf16 only where native)."""
    import torch
    from transformers import BitsAndBytesConfig

    quant: dict[str, Any] = {}
    if os.environ.get("ACCELERATE_USE_FSDP", "false").lower() in ("1", "true"):
        # FSDP shards parameters of one dtype: store the packed 4-bit weights in bf16 (the
        # FSDP-QLoRA recipe); the values, and a run without FSDP, are unchanged.
        quant["bnb_4bit_quant_storage"] = torch.bfloat16
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=getattr(torch, dtype),
        **quant,
    )


def count_4bit_layers(model: Any) -> int:
    """bitsandbytes 4-bit linear layers in `model` (0 for a model that is not quantised)."""
    try:
        from bitsandbytes.nn import Linear4bit
    except ImportError:
        return 0
    return sum(isinstance(m, Linear4bit) for m in model.modules())


def load_base_for_training(
    path: str, mode: str, dtype: str, attn_implementation: str, gradient_checkpointing: bool
) -> Any:
    """A freshly loaded base model, never run before: with bitsandbytes 4-bit layers a
    generate or no-grad forward before training has been seen to leave every later gradient
    silently zero (GradientCheck stops such a run at its first step)."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {
        "dtype": getattr(torch, dtype),
        "attn_implementation": attn_implementation,
    }
    if mode != "qlora":
        return AutoModelForCausalLM.from_pretrained(path, **kwargs)
    require_bitsandbytes()
    kwargs["quantization_config"] = quant_config(dtype)
    # One whole copy per process: this process's GPU under `accelerate launch`, else GPU 0; or
    # the CPU, where bitsandbytes 0.50 has its own 4-bit kernels.
    kwargs["device_map"] = (
        {"": int(os.environ.get("LOCAL_RANK", 0))} if torch.cuda.is_available() else {"": "cpu"}
    )
    try:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except (RuntimeError, ValueError, ImportError, NotImplementedError) as e:
        raise FinetuneError(
            f"finetune.method qlora: loading {path} in 4 bits failed: {e}. "
            f"Check the bitsandbytes install ({QLORA_INSTALL}) or train with "
            "finetune.method lora."
        ) from e
    if not count_4bit_layers(model):
        raise FinetuneError(
            f"finetune.method qlora: {path} loaded without any 4-bit layer; "
            "refusing to train it as QLoRA."
        )
    from peft import prepare_model_for_kbit_training

    # Norms to fp32 and input gradients on, as the QLoRA recipe does.
    return prepare_model_for_kbit_training(
        model,
        use_gradient_checkpointing=gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False},
    )


def adapters_to_dtype(model: Any, dtype: str) -> int:
    """Cast the trainable (adapter) parameters to `dtype`; returns how many were cast.

    SFTTrainer casts the adapters of a quantised model to bf16 (the QLoRA paper's choice).
    Where bf16 is not native (a CPU without avx512_bf16/AMX) that is emulated at a fraction of
    float32's speed, so the hardware rule's dtype is restored before training starts."""
    import torch

    want, n = getattr(torch, dtype), 0
    for _, param in model.named_parameters():
        if param.requires_grad and param.dtype != want:
            param.data = param.data.to(want)
            n += 1
    return n


def make_gradient_check(record: dict) -> Any:
    """A TrainerCallback that looks at the adapters' gradients before the first two optimizer
    steps of a run, records their sums in `record` (per kind: lora_A, lora_B, ...), and stops
    the run if every gradient is zero: a run that would go on learning nothing (the 4-bit trap,
    or a frozen adapter). Skipped where gradients are not local (DeepSpeed, FSDP shards)."""

    from transformers import TrainerCallback

    class GradientCheck(TrainerCallback):
        seen = 0

        def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
            if self.seen >= 2 or model is None:
                return
            self.seen += 1
            sums: dict[str, float] = {}
            local = False
            for name, param in model.named_parameters():
                if not param.requires_grad or param.grad is None:
                    continue
                local = True
                kind = next(
                    (k for k in ("lora_A", "lora_B", "lora_magnitude_vector") if k in name), "other"
                )
                sums[kind] = sums.get(kind, 0.0) + float(param.grad.detach().abs().sum())
            if not local:
                return
            record.setdefault("grad_abs_sum", []).append(
                {"step": state.global_step + 1, **{k: round(v, 6) for k, v in sums.items()}}
            )
            if not any(v > 0 for v in sums.values()):
                raise FinetuneError(
                    f"step {state.global_step + 1}: every adapter gradient is zero, so training "
                    "would learn nothing. With a 4-bit (QLoRA) base this happens when the model "
                    "was run (generate, or a no-grad forward) before training: load it fresh."
                )

    return GradientCheck()


def linear_module_names(model: Any) -> list[str]:
    """Leaf names of every linear layer but the output head (what peft's `all-linear` means;
    spelt out because peft takes `layers_to_transform` only with a list of names)."""
    import torch

    head = model.get_output_embeddings()
    names = {
        name.rsplit(".", 1)[-1]
        for name, mod in model.named_modules()
        if isinstance(mod, torch.nn.Linear) and mod is not head
    }
    return sorted(names)


def lora_config(ft: dict, model: Any) -> Any:
    """The adapter: rank, alpha, dropout, target modules, and optionally only the top layers
    (backpropagation then stops at the lowest adapted layer: much cheaper on a CPU). With
    `method: dora`, peft's DoRA (weight-decomposed LoRA): the same shape plus a magnitude
    vector per adapted layer; it merges into the base like LoRA."""
    from peft import LoraConfig

    lo = ft["lora"]
    targets = lo["target_modules"]
    if targets in (["all-linear"], "all-linear"):
        targets = linear_module_names(model)
    layers = None
    if lo["top_layers"]:
        n = model.config.get_text_config().num_hidden_layers
        layers = list(range(n - min(int(lo["top_layers"]), n), n))
    return LoraConfig(
        r=lo["r"],
        lora_alpha=lo["alpha"],
        lora_dropout=lo["dropout"],
        target_modules=targets,
        layers_to_transform=layers,
        use_dora=ft["method"] == "dora",
        bias="none",
        task_type="CAUSAL_LM",
    )


def pick_attention(ft: dict, cuda: bool) -> str:
    """`auto`: FlashAttention-2 for padding-free batches on a GPU that has it, else our
    per-sequence SDPA; plain `sdpa` for padded batches."""
    choice = ft["attn_implementation"]
    if choice != "auto":
        if choice == VARLEN_ATTENTION:
            register_varlen_attention()
        return choice
    if not ft["sft"].get("padding_free", False):
        return "sdpa"
    if cuda:
        try:
            import flash_attn  # noqa: F401

            return "flash_attention_2"
        except ImportError:
            pass
    return register_varlen_attention()


# --------------------------------------------------------------------------- trainer pieces


LOG_COLUMNS = (
    "step",
    "epoch",
    "loss",
    "eval_loss",
    "learning_rate",
    "grad_norm",
    "num_tokens",
    "mean_token_accuracy",
    "eval_mean_token_accuracy",
    "train_runtime",
    "train_loss",
)


def make_csv_logger(path: Path) -> Any:
    """A TrainerCallback that appends every log event to a CSV (one row per event); on resume
    it first drops rows past the checkpoint's step, so no step is logged twice."""
    from transformers import TrainerCallback

    class CsvLogger(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            if not state.is_world_process_zero:
                return
            rows = []
            if path.exists() and state.global_step > 0:
                with path.open(encoding="utf-8", newline="") as fh:
                    rows = [r for r in csv.DictReader(fh) if int(r["step"]) <= state.global_step]
            with path.open("w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=LOG_COLUMNS)
                w.writeheader()
                w.writerows(rows)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs:
                return
            row = {k: logs.get(k, "") for k in LOG_COLUMNS}
            row["step"], row["epoch"] = state.global_step, round(state.epoch or 0.0, 4)
            with path.open("a", encoding="utf-8", newline="") as fh:
                csv.DictWriter(fh, fieldnames=LOG_COLUMNS).writerow(row)

    return CsvLogger()


def read_log(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def cap_malloc_retention(threshold: int | None) -> bool:
    """Have glibc serve allocations of `threshold` bytes or more with mmap, so that freed ones go
    back to the operating system; True where it was set (Linux with glibc).

    glibc's own threshold starts at 128 KiB but rises (up to 32 MiB) each time the process frees
    a large mmapped block, and blocks below it are kept in the heap when freed. Training frees
    tensors of a few MB by the thousand (activations, the loss head's tiles): for SmolLM2 at
    4 x 940 tokens with gradient checkpointing, autograd kept 256 MB for the backward pass while
    RSS grew by 4.5 GB; with the threshold fixed at 128 KiB it grew by 280 MB
    (benchmarks/finetune.py shows the peak RSS per mode and phase)."""
    if not threshold:
        return False
    import ctypes
    import platform

    if platform.system() != "Linux" or not platform.libc_ver()[0] == "glibc":
        return False
    m_mmap_threshold = -3  # <malloc.h>; setting it also stops glibc from raising it
    return bool(ctypes.CDLL("libc.so.6").mallopt(m_mmap_threshold, int(threshold)))


def limit_loss_head_tiles(tile: list[int] | None) -> None:
    """Run TRL's fused loss head in tiles of tile[0] tokens x tile[1] vocabulary entries.

    SFTTrainer never builds the full logits: it projects the hidden states through the LM head
    tile by tile (4,096 tokens x 32,768 entries in TRL 1.16), folding each tile into the
    log-probabilities and its entropy and token-accuracy statistics. On a GPU Triton kernels do
    the folding in place; on a CPU the torch fallback makes about eight float32 copies of each
    512 MB tile, forward and backward: 2.2 GB and 4.2 GB above the decoder layers' peak for
    SmolLM2 at 4 x 1,100 tokens (benchmarks/finetune.py). Small tiles cost a few more matmul
    calls and leave the values unchanged."""
    if not tile:
        return
    from trl.kernels import chunked_logprob
    from trl.trainer import utils as trl_utils

    if not (
        hasattr(chunked_logprob, "TOKEN_CHUNK_SIZE")
        and hasattr(trl_utils, "_CHUNKED_LOGPROB_CHUNK_SIZE")
    ):
        raise FinetuneError(
            "finetune.loss_head_tile: this TRL version has no tiled loss head "
            "to configure; set finetune.loss_head_tile to null"
        )
    chunked_logprob.TOKEN_CHUNK_SIZE, trl_utils._CHUNKED_LOGPROB_CHUNK_SIZE = map(int, tile)


def make_trainer_class(loss_head_tile: list[int] | None = None) -> type:
    """SFTTrainer that refuses a batch with no trained token (a masked-out batch gives a zero
    loss and zero gradients: training would go on silently learning nothing), and on a CPU
    runs TRL's loss head in tiles of `loss_head_tile` (limit_loss_head_tiles)."""
    from trl import SFTTrainer

    class CheckedSFTTrainer(SFTTrainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.args.device.type == "cpu":  # GPUs: TRL's Triton kernels need no copies
                limit_loss_head_tiles(loss_head_tile)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.get("labels")
            if labels is not None and not bool((labels != IGNORE).any()):
                raise LabelMaskError(
                    "a training batch has every label masked. Likely cause: a chat template "
                    "mismatch; check the masks with scripts/prepare_train_chat_data.py"
                )
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

    return CheckedSFTTrainer


# SFTConfig fields the project sets itself (so not in finetune.sft), and where they come from.
SFT_OWN_KEYS = {
    "output_dir": "finetune.name (models/<name>-lora/)",
    "seed": "finetune.seed",
    "data_seed": "finetune.seed",
    "bf16": "finetune.bf16 (auto: the hardware rule)",
    "fp16": "finetune.bf16",
    "max_length": "finetune.max_length and finetune.overlong",
    "completion_only_loss": "always true: the loss is on the answer",
    "packing": "always false: records stay whole",
    "use_cpu": "the device decides",
}
# The project's defaults for SFTConfig fields that a recipe's finetune.sft may override.
SFT_DEFAULTS = {
    "logging_first_step": True,
    "report_to": ["tensorboard"],
    "activation_checkpointing_kwargs": {"use_reentrant": False},
    # Under DDP (accelerate launch): every trainable parameter (the adapters) takes part in
    # every step, so skip DDP's per-step search for unused ones (the frozen base has none).
    "ddp_find_unused_parameters": False,
    "dataloader_num_workers": 0,
    "disable_tqdm": False,
}
# finetune.sft fields that do not change the trained weights: a resumed run may change them.
SFT_BOOKKEEPING = (
    "logging_",
    "save_",
    "eval_",
    "per_device_eval_batch_size",
    "report_to",
    "dataloader_",
    "disable_tqdm",
    "num_train_epochs",
    "max_steps",
    "run_name",
    "push_to_hub",
    "hub_",
    "include_",
    "skip_memory_metrics",
)


def check_sft_keys(sft: dict) -> None:
    """Every finetune.sft key must be an SFTConfig field the project does not set itself;
    otherwise a FinetuneError names it (and the nearest field), before any model is loaded."""
    import dataclasses
    import difflib

    import trl
    from trl import SFTConfig

    fields = sorted(f.name for f in dataclasses.fields(SFTConfig) if f.init)
    for key in sft:
        if key in SFT_OWN_KEYS:
            raise FinetuneError(
                f"finetune.sft.{key}: set by the project, not in finetune.sft ({SFT_OWN_KEYS[key]})"
            )
        if key not in fields:
            near = difflib.get_close_matches(key, fields, n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            raise FinetuneError(
                f"finetune.sft.{key} is not a field of trl.SFTConfig (trl {trl.__version__}).{hint}"
            )


def sft_config(ft: dict, out_dir: Path, bf16: bool, cuda: bool, has_eval: bool) -> Any:
    """trl.SFTConfig(**finetune.sft), as alignment-handbook recipes pass theirs, over the
    project's defaults (SFT_DEFAULTS), with the fields the project owns (SFT_OWN_KEYS)."""
    from trl import SFTConfig

    check_sft_keys(ft["sft"])
    kwargs = {**SFT_DEFAULTS, **ft["sft"]}
    kwargs.update(
        output_dir=str(out_dir),
        seed=ft["seed"],
        data_seed=ft["seed"],
        bf16=bf16,
        # Labels from TRL's completion mask (prompt-completion records): the answer only.
        completion_only_loss=True,
        # Lengths are enforced by the pre-flight and cut_and_check: TRL refuses max_length with
        # padding-free batches, and has no drop policy.
        max_length=None,
        packing=False,
        use_cpu=not cuda,
    )
    if not has_eval:
        kwargs["eval_strategy"] = "no"
    try:
        return SFTConfig(**kwargs)
    except (TypeError, ValueError) as e:
        raise FinetuneError(f"finetune.sft: trl.SFTConfig refused it: {e}") from e


def last_checkpoint(out_dir: Path) -> Path | None:
    from transformers.trainer_utils import get_last_checkpoint

    if not out_dir.is_dir():
        return None
    found = get_last_checkpoint(str(out_dir))
    return Path(found) if found else None


def decisive_settings(cfg: dict, train_file: Path, mode: str) -> dict:
    """What a resumed run must share with the checkpoint it continues from, including the
    method actually trained (`mode`) and the dtype the base computes in."""
    ft = cfg["finetune"]
    keep = ("method", "seed", "max_length", "overlong", "lora")
    sft = {k: v for k, v in ft["sft"].items() if not k.startswith(SFT_BOOKKEEPING)}
    return {
        "model": cfg["model"]["name_or_path"],
        "task": cfg["task"],
        "train_data_sha256": sha256_file(train_file),
        "finetune": {**{k: ft[k] for k in keep}, "sft": sft},
        "training": {"mode": mode, "dtype": cfg["model"]["dtype"]},
    }


def training_length(ft: dict) -> dict:
    """How long to train: a finished run of another length needs --resume to go on."""
    return {
        "num_train_epochs": ft["sft"].get("num_train_epochs", 3.0),
        "max_steps": ft["sft"].get("max_steps", -1),
    }


def prepare_output_dir(
    out_dir: Path, decisive: dict, length: dict, resume: bool, overwrite: bool
) -> tuple[Path | None, bool]:
    """(checkpoint to resume from or None, already finished), after refusing anything that
    would mix runs. `length` is how long to train (epochs, max steps): a finished run of the
    same settings and length has nothing left to do, one asked to train longer needs --resume.
    `--resume` with nothing to resume from starts from the beginning (so a pipeline can always
    pass it)."""
    from elmtex.io import read_json, write_json

    if overwrite and out_dir.exists():
        shutil.rmtree(out_dir)
    ckpt = last_checkpoint(out_dir)
    cfg_file, summary_file = out_dir / CONFIG_FILE, out_dir / SUMMARY_FILE
    old = read_json(cfg_file) if cfg_file.exists() else None
    if old is not None and old != decisive:
        a, b = _flatten(old), _flatten(decisive)
        changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        raise FinetuneError(
            f"{out_dir} was trained with other settings ({', '.join(changed)} differ). Restore "
            "them, give this run another finetune.name, or start over with --overwrite."
        )
    if summary_file.exists() and read_json(summary_file).get("length") == length:
        return None, True
    if ckpt is not None or summary_file.exists():
        if not resume:
            raise FinetuneError(
                f"{out_dir} already holds a training run. Pass --resume to continue it from "
                f"{ckpt.name if ckpt else 'its last checkpoint'}, or --overwrite to start over."
            )
        if ckpt is None:
            raise FinetuneError(
                f"--resume: no checkpoint-* folder in {out_dir} to resume from; "
                "start over with --overwrite."
            )
        return ckpt, False
    if resume:
        print(f"--resume: no checkpoint in {out_dir} yet, so training starts from the beginning")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(cfg_file, decisive)
    return None, False


def _flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def tensorboard_dir(out_dir: Path) -> Path:
    """One TensorBoard folder per output dir, so `tensorboard --logdir` finds resumed runs."""
    d = out_dir / "tensorboard"
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(d)  # read by transformers' TensorBoardCallback
    return d
