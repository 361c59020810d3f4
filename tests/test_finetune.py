"""Fine-tuning: chat data, label masks, training (loss goes down), resume, merge, and running
the merged model, with the real SmolLM2 test model on real demo records.

To stay within a few CPU minutes the training runs use a short prompt (a task file of our own
with the same 15 fields; the task schema is data, so this is the same code path), the four
shortest English demo reports and examples cut at 448 tokens (`overlong: truncate`), so about
90 answer tokens (of about 210) per record are trained on.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, TEST_MODEL, run_script

from elmtex.finetune import (
    IGNORE,
    Example,
    LabelMaskError,
    apply_length_policy,
    chat_example,
    cut_and_check,
    read_log,
    record_tokens,
    to_dataset,
    tokenize_examples,
)
from elmtex.io import read_jsonl
from elmtex.prompts import PromptTemplate

pytestmark = pytest.mark.slow

SHORT_PROMPT = (
    "=== system ===\nSummarise the case report as one JSON object with the keys "
    "{{ fields | map(attribute='name') | join(', ') }}; \"{{ na_value }}\" if absent.\n"
    "=== user ===\n{{ report }}\n"
)
TRAIN_IDS = [
    "demo-en-train-0264",
    "demo-en-train-0243",
    "demo-en-train-0073",
    "demo-en-train-0287",
]  # the shortest English reports
VAL_IDS = ["demo-en-val-0024"]


def _demo_records(split: str, ids: list[str]) -> list[dict]:
    rows = {r["id"]: r for _, r in read_jsonl(ROOT / "data/demo/en" / f"{split}.jsonl")}
    return [rows[i] for i in ids]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A short-prompt task, a tiny data set of real demo records, and folders for outputs."""
    d = tmp_path_factory.mktemp("ft")
    (d / "naive_short.txt").write_text(SHORT_PROMPT, encoding="utf-8")
    task = yaml.safe_load((ROOT / "configs/tasks/elmtex.yaml").read_text(encoding="utf-8"))
    task["prompts"] = {"naive": str(d / "naive_short.txt")}
    (d / "task.yaml").write_text(yaml.safe_dump(task), encoding="utf-8")
    for split, ids in (("train", TRAIN_IDS), ("val", VAL_IDS)):
        out = d / "data" / "en" / f"{split}.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _demo_records(split, ids)),
            encoding="utf-8",
        )
    return d


def ft_args(ws: Path, name: str, *extra: str) -> list[str]:
    """--set arguments for a tiny, fast fine-tuning run writing under the workspace."""
    sets = [
        f"task={ws / 'task.yaml'}",
        f"data.dir={ws / 'data'}",
        "data.langs=[en]",
        f"model.name_or_path={TEST_MODEL}",
        f"model.models_dir={ws / 'models'}",
        f"finetune.name={name}",
        f"finetune.data_dir={ws / 'chat'}",
        "finetune.train_limit=null",
        "finetune.val_limit=null",
        "finetune.max_length=448",
        "finetune.overlong=truncate",
        "finetune.lora.r=8",
        "finetune.lora.alpha=16",
        "finetune.lora.top_layers=6",
        "finetune.sft.learning_rate=3.0e-3",
        "finetune.sft.lr_scheduler_type=constant",
        "finetune.sft.warmup_steps=0",
        "finetune.sft.per_device_train_batch_size=2",
        "finetune.sft.save_steps=4",
        "finetune.sft.logging_steps=1",
        "finetune.merge_check_records=1",
        *extra,
    ]
    return [a for s in sets for a in ("--set", s)]


@pytest.fixture(scope="module")
def trained(workspace, test_model_dir) -> dict:
    """prepare -> finetune 4 steps -> a rerun without --resume (refused) -> --resume to 8."""
    ws = workspace
    # The models_dir of these runs is the workspace: link the prepared test model into it.
    (ws / "models").mkdir(exist_ok=True)
    link = ws / "models" / TEST_MODEL
    if not link.exists():
        link.symlink_to(test_model_dir, target_is_directory=True)
    run_script("scripts/prepare_train_chat_data.py", *ft_args(ws, "t"))
    first = run_script("finetune.py", *ft_args(ws, "t", "finetune.sft.max_steps=4"))
    refused = run_script("finetune.py", *ft_args(ws, "t", "finetune.sft.max_steps=8"), check=False)
    resumed = run_script("finetune.py", *ft_args(ws, "t", "finetune.sft.max_steps=8"), "--resume")
    return {
        "ws": ws,
        "out": ws / "models" / "t-lora",
        "first": first,
        "refused": refused,
        "resumed": resumed,
    }


# --------------------------------------------------------------------------- chat data


def test_chat_example_is_what_the_naive_stage_sends(task):
    template = PromptTemplate(task.prompt_path("naive"))
    rec = _demo_records("train", TRAIN_IDS[:1])[0]
    ex = chat_example(task, template, rec)
    assert ex["prompt"] == template.render(task, rec["report"])  # TRL's prompt-completion format
    assert [m["role"] for m in ex["prompt"] + ex["completion"]] == ["system", "user", "assistant"]
    answer = ex["completion"][0]["content"]
    assert list(json.loads(answer)) == task.field_names  # the task's key order
    assert json.loads(answer) == rec["summary"]


def test_prepare_drops_or_truncates_overlong_records(tmp_path, test_model_dir, task):
    base = [
        "--set",
        f"model.name_or_path={TEST_MODEL}",
        "--set",
        "finetune.name=p",
        "--set",
        f"finetune.data_dir={tmp_path}",
        "--set",
        "finetune.train_limit=4",
        "--set",
        "finetune.val_limit=1",
        "--set",
        "finetune.max_length=1000",
    ]
    drop = run_script(
        "scripts/prepare_train_chat_data.py", *base, "--set", "finetune.overlong=drop"
    )
    stats = json.loads((tmp_path / "p" / "stats.json").read_text())["splits"]["train"]
    assert stats["records"] == 8 and 0 < stats["dropped"] < 8  # real demo lengths: 760-1700
    rows = [r for _, r in read_jsonl(tmp_path / "p" / "train.jsonl")]
    assert len(rows) == 8 - stats["dropped"] and all(r["n_tokens"] <= 1000 for r in rows)
    assert f"{stats['overlong']} train examples are longer than 1000 tokens: dropped" in drop.stdout
    assert "min / mean / p95 / max" in drop.stdout
    assert {"min", "mean", "p95", "max"} <= set(stats["tokens"])
    # Seeded shuffle: languages mixed, the same order on every run.
    assert [r["id"] for r in rows] != sorted(r["id"] for r in rows)
    first_order = [r["id"] for r in rows]

    run_script("scripts/prepare_train_chat_data.py", *base, "--set", "finetune.overlong=truncate")
    stats_t = json.loads((tmp_path / "p" / "stats.json").read_text())["splits"]["train"]
    rows_t = [r for _, r in read_jsonl(tmp_path / "p" / "train.jsonl")]
    assert stats_t["truncated"] == stats["overlong"] - stats_t["dropped"] > 0
    assert len(rows_t) == 8 - stats_t["dropped"]  # only prompts that alone fill 1000 are dropped
    assert sum(r["truncated"] for r in rows_t) == stats_t["truncated"]
    assert [r["id"] for r in rows_t if r["id"] in first_order] == first_order


def test_val_held_out_of_train_when_there_is_no_val_split(task):
    from elmtex.config import load_config
    from elmtex.finetune import train_val_records

    cfg = load_config(
        overrides=["finetune.val_split=null", "finetune.val_limit=2", "finetune.train_limit=3"]
    )
    train, val = train_val_records(cfg, task)
    assert len(train) == 6 and len(val) == 4
    assert {r["id"].split("-")[2] for r in train + val} == {"train"}  # all from the train split
    assert not {r["id"] for r in train} & {r["id"] for r in val}
    assert sorted(r["lang"] for r in val) == ["de", "de", "en", "en"]
    assert train_val_records(cfg, task) == (train, val)  # seeded


def test_length_policy_truncate_keeps_the_answer_start():
    ex = Example("a", list(range(10)), n_prompt=6, n_total=10)
    prompt_only = Example("b", list(range(10)), n_prompt=9, n_total=10)
    kept, report = apply_length_policy([ex, prompt_only], 8, "truncate")
    assert [k.id for k in kept] == ["a"] and report["truncated"] == 1 and report["dropped"] == 1
    assert kept[0].input_ids == list(range(8)) and kept[0].n_trained == 2
    kept, report = apply_length_policy([ex, prompt_only], 8, "drop")
    assert kept == [] and report["dropped"] == 2


# --------------------------------------------------------------------------- label masks


def _trl_prepared(tok, rows: list[dict], out: Path):
    """What SFTTrainer makes of prompt-completion records: its tokens and its labels."""
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    model = AutoModelForCausalLM.from_pretrained(tok.name_or_path)
    args = SFTConfig(
        output_dir=str(out),
        completion_only_loss=True,
        max_length=None,
        padding_free=True,
        report_to=[],
        use_cpu=True,
    )
    return SFTTrainer(
        model=model, args=args, train_dataset=to_dataset(rows), processing_class=tok
    ).train_dataset


def test_labels_come_from_trls_completion_mask(test_model_dir, task, tmp_path):
    """TRL's labels cover exactly the answer and its end-of-turn token, and agree with the
    pre-flight check; cut_and_check cuts them at max_length (TRL leaves padding-free uncut)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(test_model_dir)
    template = PromptTemplate(task.prompt_path("naive"))
    rows = [chat_example(task, template, r) for r in _demo_records("train", TRAIN_IDS[:2])]
    prepared = _trl_prepared(tok, rows, tmp_path)
    examples = tokenize_examples(rows, tok)
    for row, ex in zip(prepared, examples, strict=True):
        labels, n_prompt = row["labels"], ex.n_prompt
        assert row["input_ids"] == ex.input_ids
        assert labels[:n_prompt] == [IGNORE] * n_prompt and IGNORE not in labels[n_prompt:]
        prompt = tok.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        assert tok.decode(row["input_ids"][:n_prompt]) == prompt  # what the model is given
        assert tok.decode(labels[n_prompt:]).startswith(row["completion"][0]["content"])
        assert tok.convert_tokens_to_ids("<|im_end|>") in labels[n_prompt:]  # it learns to stop
    cut = cut_and_check(prepared, examples, None, "train")
    assert cut["labels"] == prepared["labels"]
    short, _ = apply_length_policy(examples, examples[0].n_prompt + 5, "truncate")
    cut = cut_and_check(
        prepared.select(range(len(short))), short, examples[0].n_prompt + 5, "train"
    )
    assert sum(t != IGNORE for t in cut[0]["labels"]) == 5
    with pytest.raises(LabelMaskError, match="differ from the pre-flight"):  # checked, not trusted
        cut_and_check(
            prepared,
            [Example(e.id, e.input_ids, e.n_prompt - 1, e.n_total) for e in examples],
            None,
            "train",
        )


def test_preflight_fails_on_a_mismatching_chat_template(test_model_dir, task):
    """TRL 1.16 only warns (once) where the prompt is not a prefix of prompt + completion; the
    pre-flight stops with the record's id."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(test_model_dir)
    row = chat_example(
        task, PromptTemplate(task.prompt_path("naive")), _demo_records("train", TRAIN_IDS[:1])[0]
    )
    record_tokens(tok, row)  # the model's own template passes
    # A template whose generation prompt is not how it renders the assistant's turn.
    tok.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
        "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}"
        "<|im_start|>assistant:\n{% endif %}"
    )
    with pytest.raises(LabelMaskError, match=f"record {row['id']}: .*chat template mismatch"):
        record_tokens(tok, row)
    # A template that drops the assistant's turn: the prefix holds, the completion mask is empty.
    tok.chat_template = (
        "{% for m in messages %}{% if m.role != 'assistant' %}<|im_start|>"
        "{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endif %}{% endfor %}"
    )
    with pytest.raises(LabelMaskError, match=f"record {row['id']}: the completion mask is empty"):
        record_tokens(tok, row)


def test_trainer_refuses_an_all_masked_batch(test_model_dir, tmp_path):
    """Even past the pre-flight (e.g. a dataset built by hand), the trainer stops at such a
    batch."""
    from datasets import Dataset
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from elmtex.config import load_config
    from elmtex.finetune import lora_config, make_trainer_class, sft_config

    ft = load_config(
        overrides=["finetune.sft.max_steps=1", "finetune.lora.top_layers=1", "finetune.bf16=false"]
    )["finetune"]
    tok = AutoTokenizer.from_pretrained(test_model_dir)
    model = AutoModelForCausalLM.from_pretrained(test_model_dir)
    model = get_peft_model(model, lora_config(ft, model))
    ids = tok("just a prompt, nothing to learn")["input_ids"]
    data = Dataset.from_dict({"input_ids": [ids], "labels": [[IGNORE] * len(ids)]})
    trainer = make_trainer_class()(
        model=model,
        args=sft_config(ft, tmp_path, False, False, False),
        train_dataset=data,
        processing_class=tok,
    )
    with pytest.raises(LabelMaskError, match="every label masked"):
        trainer.train()


# --------------------------------------------------------------------------- attention


def test_padding_free_attention_equals_padded_batches(test_model_dir):
    """The per-record SDPA of padding-free batches gives the logits of an ordinary padded
    batch: no record sees another, and positions restart per record."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from elmtex.finetune import register_varlen_attention

    g = torch.Generator().manual_seed(0)
    rows = [
        {"input_ids": torch.randint(100, 5000, (n,), generator=g).tolist()} for n in (17, 40, 29)
    ]
    for r in rows:
        r["labels"] = list(r["input_ids"])
    padded = DataCollatorForLanguageModeling(pad_token_id=0)(rows)
    flat = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(rows)
    assert flat["input_ids"].shape == (1, 86) and "attention_mask" not in flat

    def logits(attn, batch):
        model = AutoModelForCausalLM.from_pretrained(
            test_model_dir, dtype=torch.float32, attn_implementation=attn
        ).eval()
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        with torch.no_grad():
            return model(**inputs).logits

    ref = logits("sdpa", padded)
    got = logits(register_varlen_attention(), flat)[0]
    start = 0
    for i, r in enumerate(rows):
        n = len(r["input_ids"])
        assert (got[start : start + n] - ref[i, :n]).abs().max() < 1e-3
        start += n


# --------------------------------------------------------------------------- training


def train_rows(out: Path) -> list[dict]:
    return [r for r in read_log(out / "train_log.csv") if r["loss"]]


def test_training_loss_goes_down(trained):
    rows = train_rows(trained["out"])
    losses = [float(r["loss"]) for r in rows]
    assert len(losses) == 8
    first, last = sum(losses[:2]) / 2, sum(losses[-2:]) / 2
    assert last < 0.6 * first, losses  # overfitting 4 records at a high rate: a clear drop
    summary = json.loads((trained["out"] / "train_summary.json").read_text())
    assert summary["eval_loss"] is not None and summary["mode"] == "lora"
    assert list((trained["out"] / "tensorboard").rglob("events.out.tfevents.*"))
    assert "mode: LoRA on the CPU" in trained["first"].stdout


def test_rerun_without_resume_is_refused(trained):
    proc = trained["refused"]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "--resume" in proc.stderr and "--overwrite" in proc.stderr


def test_resume_continues_the_step_count(trained):
    out = trained["out"]
    assert "resuming from checkpoint-4" in trained["resumed"].stdout
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["global_step"] == 8 and summary["resumed_from"].endswith("checkpoint-4")
    assert [int(r["step"]) for r in train_rows(out)] == list(range(1, 9))  # none twice
    assert (out / "checkpoint-8").is_dir() and (out / "adapter_model.safetensors").exists()


def test_finished_run_has_nothing_to_do(trained):
    """A rerun of a finished run (as `make demo` does, always with --resume) changes nothing."""
    out = trained["out"]
    before = (out / "train_summary.json").read_text()
    proc = run_script(
        "finetune.py", *ft_args(trained["ws"], "t", "finetune.sft.max_steps=8"), "--resume"
    )
    assert "trained to the end" in proc.stdout and "nothing to do" in proc.stdout
    assert (out / "train_summary.json").read_text() == before


def test_resume_with_other_settings_is_refused(trained):
    proc = run_script(
        "finetune.py",
        *ft_args(
            trained["ws"], "t", "finetune.sft.max_steps=9", "finetune.sft.learning_rate=1.0e-3"
        ),
        "--resume",
        check=False,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "finetune.sft.learning_rate" in proc.stderr


def test_sft_block_goes_to_sftconfig_and_unknown_keys_are_named(tmp_path):
    """finetune.sft is passed to trl.SFTConfig as it is: any field (here one default.yaml does
    not list) is taken; a misspelt one fails before any model is loaded, named."""
    from elmtex.config import load_config
    from elmtex.finetune import sft_config

    ft = load_config(
        overrides=["finetune.sft.optim=adafactor", "finetune.sft.per_device_train_batch_size=3"]
    )["finetune"]
    args = sft_config(ft, tmp_path, False, False, True)
    assert args.optim == "adafactor" and args.per_device_train_batch_size == 3
    assert args.completion_only_loss is True and args.max_length is None  # the project's own
    proc = run_script(
        "finetune.py",
        "--set",
        f"model.name_or_path={TEST_MODEL}",
        "--set",
        "finetune.sft.learning_rte=1.0e-4",
        check=False,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "finetune.sft.learning_rte is not a field of trl.SFTConfig" in proc.stderr
    assert "Did you mean 'learning_rate'?" in proc.stderr
    assert "Loading weights" not in proc.stderr + proc.stdout  # before any model is loaded
    proc = run_script("finetune.py", "--set", "finetune.sft.max_length=100", check=False)
    assert proc.returncode == 1 and "finetune.sft.max_length: set by the project" in proc.stderr


# --------------------------------------------------------------------------- merge


def test_merge_equals_base_plus_adapter(trained, test_model_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ws = trained["ws"]
    merge_args = [*ft_args(ws, "t", "finetune.merge_dtype=float32"), "--merge-dtype", "float32"]
    run_script("scripts/merge_model_lora.py", *merge_args)
    merged_dir = ws / "models" / "t"
    info = json.loads((merged_dir / "merged.json").read_text())
    assert info["merged_vs_base_plus_adapter"]["max_abs_diff"] < 1e-3
    assert info["saved_vs_merged"]["max_abs_diff"] == 0.0
    again = run_script("scripts/merge_model_lora.py", *merge_args)
    assert "nothing to do" in again.stdout  # the same adapter is not merged twice
    assert json.loads((merged_dir / "merged.json").read_text()) == info

    # Independently: a new input through the saved folder and through base + adapter.
    tok = AutoTokenizer.from_pretrained(merged_dir)
    assert tok.chat_template == AutoTokenizer.from_pretrained(test_model_dir).chat_template
    ids = tok(
        "Patient: 71-year-old woman with atrial fibrillation on apixaban.", return_tensors="pt"
    )["input_ids"]
    merged = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32).eval()
    base = AutoModelForCausalLM.from_pretrained(test_model_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        plain = base(input_ids=ids).logits
        adapted = PeftModel.from_pretrained(base, trained["out"]).eval()(input_ids=ids).logits
        got = merged(input_ids=ids).logits
    assert (got - adapted).abs().max() < 1e-3
    assert (got - plain).abs().max() > 1e-2  # the adapter did change the model


def test_merged_model_runs_in_the_naive_stage(trained, tmp_path):
    ws = trained["ws"]
    merged_dir = ws / "models" / "t"
    if not (merged_dir / "merged.json").exists():
        run_script("scripts/merge_model_lora.py", *ft_args(ws, "t"))

    def naive_stage(limit: int):
        return run_script(
            "cache_results_naive.py",
            "--set",
            f"model.name_or_path={merged_dir}",
            "--set",
            "data.langs=[en]",
            "--set",
            f"data.limit={limit}",
            "--set",
            "generation.max_new_tokens=8",
            "--set",
            "backend.batch_size=1",
            "--set",
            f"run.cache_dir={tmp_path}",
            check=False,
        )

    proc = naive_stage(1)
    assert proc.returncode == 0, proc.stderr
    assert "run naive-t-demo-test" in proc.stdout  # the default name says which model it was
    rows = [r for _, r in read_jsonl(tmp_path / "naive-t-demo-test.jsonl")]
    assert len(rows) == 1 and rows[0]["completion_tokens"] > 0
    # The manifest names this merge: a model merged again is a new model, not a resumable one.
    manifest = json.loads((tmp_path / "naive-t-demo-test.manifest.json").read_text())
    merged_json = (merged_dir / "merged.json").read_bytes()
    assert manifest["model"]["merged_json_sha256"] == hashlib.sha256(merged_json).hexdigest()
    run_script("scripts/merge_model_lora.py", *ft_args(ws, "t"), "--overwrite")
    again = naive_stage(2)
    assert again.returncode == 1 and "merged again" in again.stderr, again.stderr
    shutil.rmtree(tmp_path)
