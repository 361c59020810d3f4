"""Fine-tuning data: the train and val splits as chat examples (JSONL), with token statistics.

    python scripts/prepare_train_chat_data.py                  # CPU demo (configs/default.yaml)
    python scripts/prepare_train_chat_data.py --config configs/experiments/finetune_cpu_demo.yaml

Each example is a TRL conversational prompt-completion record: `prompt` = the system and user
messages exactly as cache_results_naive.py sends them (the task's naive prompt, the report in
the user message), `completion` = the gold JSON (the task's field order, compact, non-ASCII
kept) as the assistant message. Records are shuffled
with finetune.seed; with finetune.val_split null, val records are held out of the train split.
Token lengths are measured with the base model's tokenizer and chat template; examples over
finetune.max_length are dropped or kept for truncation at training time (finetune.overlong),
and the script says how many. Writes data/cache/finetune/<name>/{train,val}.jsonl, stats.json.
"""

import argparse
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local models by default; HF_HUB_OFFLINE=0 uses a hub

from elmtex.config import add_config_args, config_from_args
from elmtex.finetune import (
    apply_length_policy,
    base_model_path,
    chat_example,
    length_stats,
    tokenize_examples,
    train_val_records,
)
from elmtex.io import write_json, write_jsonl
from elmtex.prompts import PromptTemplate
from elmtex.runs import finetune_paths
from elmtex.task import load_task

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
args = parser.parse_args()
cfg = config_from_args(args)
ft = cfg["finetune"]

task = load_task(cfg["task"])
template = PromptTemplate(task.prompt_path("naive"))
paths = finetune_paths(cfg)
model_path = base_model_path(cfg)

from transformers import AutoTokenizer  # after the config: a typo fails fast, without this import

tokenizer = AutoTokenizer.from_pretrained(model_path)
if tokenizer.chat_template is None:
    sys.exit(f"error: {model_path} has no chat template; fine-tune an instruct model.")

stats = {
    "name": paths.name,
    "tokenizer": model_path,
    "seed": ft["seed"],
    "max_length": ft["max_length"],
    "overlong": ft["overlong"],
    "splits": {},
}
print(
    f"chat data {paths.name}: tokenizer {model_path}, max_length {ft['max_length']}, "
    f"overlong: {ft['overlong']}"
)
print(
    f"{'split':<6} {'records':>7} {'kept':>5} {'dropped':>7} {'truncated':>9}   "
    "tokens (prompt + answer): min / mean / p95 / max   answer: mean / max"
)
train, val = train_val_records(cfg, task)
for split, records, out in (("train", train, paths.train_file), ("val", val, paths.val_file)):
    rows = [chat_example(task, template, r) for r in records]

    # The pre-flight check: as SFTTrainer tokenises them, the prompt's tokens a prefix of prompt +
    # completion and a non-empty completion mask (else an error naming the record); then the
    # length policy.
    examples = tokenize_examples(rows, tokenizer)
    kept, report = apply_length_policy(examples, ft["max_length"], ft["overlong"])
    kept_ids = {e.id: e for e in kept}
    rows_out = [
        {
            **row,
            "n_tokens": kept_ids[row["id"]].n_total,
            "n_prompt_tokens": kept_ids[row["id"]].n_prompt,
            "truncated": kept_ids[row["id"]].truncated,
        }
        for row in rows
        if row["id"] in kept_ids
    ]
    write_jsonl(out, rows_out)

    total = length_stats([e.n_total for e in examples])
    answer = length_stats([e.n_total - e.n_prompt for e in examples])
    stats["splits"][split] = {
        "file": str(out),
        "records": len(rows),
        "kept": len(rows_out),
        "tokens": total,
        "prompt_tokens": length_stats([e.n_prompt for e in examples]),
        "answer_tokens": answer,
        **report,
    }
    print(
        f"{split:<6} {len(rows):>7} {len(rows_out):>5} {report['dropped']:>7} "
        f"{report['truncated']:>9}   {total['min']} / {total['mean']} / {total['p95']} / "
        f"{total['max']}   {answer['mean']} / {answer['max']}"
    )
    if report["overlong"]:
        how = (
            "dropped"
            if ft["overlong"] == "drop"
            else "kept, to be cut at max_length when training (their answers lose the end)"
        )
        print(
            f"  {report['overlong']} {split} examples are longer than {ft['max_length']} "
            f"tokens: {how}; {report['dropped']} dropped in all."
        )
    if not rows_out:
        sys.exit(f"error: no {split} example fits in finetune.max_length={ft['max_length']}.")

write_json(paths.data_dir / "stats.json", stats)
print(f"wrote {paths.train_file}, {paths.val_file} and stats.json")
