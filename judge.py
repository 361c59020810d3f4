"""Stage: LLM as judge. A judge model grades every cached answer of a run against the
reference answer and the context passages, on a 1-5 rubric with a rationale (prompts/judge.txt),
and appends the judgments to data/cache/judge-<run>.jsonl; evaluate.py then reports the mean
score and how well the judge agrees with the automatic metrics.

    python judge.py --config configs/experiments/medqa_open_cpu.yaml          # its runs
    python judge.py --config ... --runs rag-qwen2.5-coder-0.5b-instruct-medqa_open-test
    python judge.py --config ... --set judge.backend=openai --set judge.model=<served name>

The judge is any backend: the answering model by default, another local model or hub id
(judge.model), or an OpenAI-compatible server (judge.backend=openai, backend.openai.*). Rerun
it after an interruption: judged answers are skipped. --shard I/N judges one shard of the
records (scripts/merge_shards.py --run judge-<run> joins them).
"""

import argparse
import dataclasses
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local models by default; HF_HUB_OFFLINE=0 uses a hub

from elmtex.backends import GenerationSettings, make_backend
from elmtex.cache import cache_responses, prepare_manifest
from elmtex.config import ConfigError, add_config_args, config_from_args, resolve_path
from elmtex.constrained import decisive_generation, task_json_schema
from elmtex.io import read_json, read_jsonl
from elmtex.judge import JUDGE_TASK, answer_text, judge_config, judge_score, reference_text
from elmtex.passages import load_passages
from elmtex.prompts import PromptTemplate
from elmtex.runs import cache_paths, default_runs, judge_run_name
from elmtex.sharding import add_shard_args, shard_from_args, shard_records
from elmtex.task import load_task

METHOD = "judge"
CONTEXTS = ("gold", "retrieved", "none")

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument(
    "--runs",
    nargs="+",
    help="runs to judge (default: this config's naive, "
    "ICL, RAG and fine-tuned runs that have a cache)",
)
parser.add_argument("--overwrite", action="store_true", help="discard earlier judgments")
add_shard_args(parser)  # --shard I/N, or the SLURM array task's shard
args = parser.parse_args()
cfg = config_from_args(args)
shard = shard_from_args(args)
jc = cfg["judge"]
if jc["context"] not in CONTEXTS:
    raise ConfigError(f"judge.context must be one of {CONTEXTS}, got {jc['context']!r}")

task = load_task(cfg["task"])
records = shard_records(cfg, task, shard)
runs = args.runs or [r for r in default_runs(cfg) if cache_paths(cfg, r)[0].exists()]
if not runs:
    sys.exit("No cached runs to judge for this config; run a caching stage first.")
for run in runs:
    if not cache_paths(cfg, run)[0].exists():
        sys.exit(f"No cache for run '{run}' at {cache_paths(cfg, run)[0]}.")

passages = {}
if jc["context"] != "none":
    source = jc["passages"] or cfg["retriever"]["passages"]["path"]
    if not source:
        raise ConfigError(
            "judge.context shows passages, but neither judge.passages nor "
            "retriever.passages.path names the collection (or judge.context=none)."
        )
    passages = {p["id"]: p for p in load_passages(resolve_path(source))}

template = PromptTemplate(resolve_path(jc["prompt"]))
judge_cfg = judge_config(cfg)
settings = GenerationSettings.from_config(judge_cfg)
if jc["constrained"]:  # the judgment's schema, not the task's
    schema = task_json_schema(
        JUDGE_TASK,
        judge_cfg["generation"]["json_whitespace"],
        judge_cfg["generation"]["max_value_chars"],
    )
    settings = dataclasses.replace(settings, json_schema=schema)
backend = make_backend(judge_cfg)
print(f"judge: {backend.model_id} ({backend.name}), context: {jc['context']}")

for run in runs:
    answer_path, answer_manifest = cache_paths(cfg, run)
    answers = {row["id"]: row for _, row in read_jsonl(answer_path)}
    todo = [r for r in records if r["id"] in answers]
    name = judge_run_name(run)
    cache_path, manifest_path = cache_paths(cfg, name, shard, writer=True)
    if args.overwrite:
        cache_path.unlink(missing_ok=True)
    decisive = {
        "method": METHOD,
        "judged_run": run,
        # new answers (the run cached again) need new judgments
        "judged_fingerprint": read_json(answer_manifest).get("fingerprint"),
        "model": judge_cfg["model"],
        "backend": judge_cfg["backend"]["name"],
        "prompt": template.text,
        "context": jc["context"],
        "generation": decisive_generation(judge_cfg["generation"]),
    }
    prepare_manifest(
        manifest_path, judge_cfg, name, METHOD, backend, decisive, args.overwrite, shard
    )
    print(f"judging {run}: {len(todo)} answers -> {cache_path}")

    def build(rec: dict, run: str = run, answers: dict = answers) -> tuple[list[dict], dict]:
        row = answers[rec["id"]]
        ids = {
            "gold": rec.get("passage_ids"),
            "retrieved": row.get("rag_passage_ids"),
            "none": None,
        }[jc["context"]] or []
        missing = [i for i in ids if i not in passages]
        if missing:
            raise ConfigError(f"{rec['id']}: passage ids {missing} are not in the collection.")
        conversation = template.render(
            task,
            rec[task.input_key],
            reference=reference_text(task, rec),
            answer=answer_text(task, rec, row),
            passages=[passages[i] for i in ids],
        )
        return conversation, {"judged_run": run, "judge_context_ids": ids}

    counts = cache_responses(
        todo, build, backend, settings, cache_path, name, METHOD, judge_cfg["backend"]["batch_size"]
    )
    scores = [judge_score(row.get("parsed")) for _, row in read_jsonl(cache_path)]
    valid = [s for s in scores if s is not None]
    mean = f"{sum(valid) / len(valid):.2f}" if valid else "-"
    print(
        f"done: {counts}; {len(valid)} valid scores (mean {mean}), "
        f"{len(scores) - len(valid)} without a valid 1-5 score"
    )
    if counts["request_errors"]:
        print(f"{counts['request_errors']} requests failed; rerun this command to retry them.")
        sys.exit(1)
