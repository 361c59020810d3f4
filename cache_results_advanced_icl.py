"""Stage 2: in-context learning. For every record of the split, asks the retriever service for
the k most similar training records of the same language, shows them as worked examples
(report -> gold JSON) in the task's advanced prompt, generates with the configured backend and
appends responses to data/cache/<run>.jsonl.

    python icl_retriever_app.py &                       # the service, in another shell
    python cache_results_advanced_icl.py                # the CPU demo (configs/default.yaml)

Rerun it after an interruption: finished records are skipped (and not retrieved again).
"""

import argparse
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local models by default; HF_HUB_OFFLINE=0 uses a hub

from elmtex import icl
from elmtex.backends import GenerationSettings, make_backend
from elmtex.cache import cache_responses, prepare_manifest
from elmtex.config import ConfigError, add_config_args, config_from_args
from elmtex.constrained import decisive_generation
from elmtex.prompts import PromptTemplate
from elmtex.runs import cache_paths, run_name
from elmtex.sharding import add_shard_args, shard_from_args, shard_records
from elmtex.task import load_task

METHOD = "advanced_icl"

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument("--overwrite", action="store_true", help="discard this run's earlier cache")
add_shard_args(parser)  # --shard I/N, or the SLURM array task's shard
args = parser.parse_args()
cfg = config_from_args(args)
shard = shard_from_args(args)

task = load_task(cfg["task"])
template = PromptTemplate(task.prompt_path(METHOD))
records = shard_records(cfg, task, shard)
k = int(cfg["icl"]["k"])
if k < 1:
    raise ConfigError(f"icl.k must be at least 1, got {k} (for no examples, use the naive stage).")

# The service first: a missing one is a one-line error before minutes of model loading.
client = icl.RetrieverClient(
    icl.retriever_url(cfg),
    cfg["icl"]["timeout_s"],
    icl.retriever_start_command(args.config, args.overrides),
)
retriever = icl.retriever_identity(client.health())
print(f"retriever {client.url}: {retriever}")

name = run_name(cfg, METHOD)
cache_path, manifest_path = cache_paths(cfg, name, shard, writer=True)
if args.overwrite:
    cache_path.unlink(missing_ok=True)
print(f"run {name}: {len(records)} records, k={k} examples each -> {cache_path}")

settings = GenerationSettings.from_config(cfg)
backend = make_backend(cfg)
budget = icl.prompt_budget(cfg, backend)
count_tokens = icl.token_counter(backend, cfg, budget)
print(f"context fitting budget: {budget.reason}")
decisive = {
    "method": METHOD,
    "model": cfg["model"],
    "prompt": template.text,
    "task": task.source,
    "generation": decisive_generation(cfg["generation"]),
    "backend": cfg["backend"]["name"],
    "icl": {"k": k, "budget": budget.tokens},
    "retriever": retriever,
}
prepare_manifest(manifest_path, cfg, name, METHOD, backend, decisive, args.overwrite, shard)

shortened, over_budget = [], []


def build(rec: dict) -> tuple[list[dict], dict]:
    """Retrieve (never the record itself), fit into the budget, render; called only for records
    not cached yet."""
    report = rec[task.input_key]
    examples = client.retrieve(report, k, rec["lang"], exclude_ids=[rec["id"]])
    fitted = icl.fit_examples(
        lambda exs: icl.render_prompt(template, task, report, exs),
        examples,
        budget.tokens,
        count_tokens,
    )
    if fitted.dropped:
        shortened.append(rec["id"])
    if fitted.over_budget:
        over_budget.append(rec["id"])
        print(
            f"warning: {rec['id']}: the prompt has {fitted.prompt_tokens} tokens without any "
            f"example, over the budget of {budget.tokens}; sent without examples.",
            file=sys.stderr,
        )
    return fitted.conversation, fitted.row_fields(len(examples), budget.tokens)


counts = cache_responses(
    records, build, backend, settings, cache_path, name, METHOD, cfg["backend"]["batch_size"]
)
print(f"done: {counts}")
print(
    f"examples: {len(shortened)} prompts had examples dropped to fit, "
    f"{len(over_budget)} were over the budget even without examples (icl_* fields per row)"
)
if counts["request_errors"]:
    print(f"{counts['request_errors']} requests failed; rerun this command to retry them.")
    sys.exit(1)
