"""Stage: retrieval-augmented prompting. For every record of the split, asks the retriever
service for the rag.k passages of its collection nearest to the record's input (reranked to
rag.rerank_to when set), puts them in the task's rag prompt, generates with the configured
backend and appends responses to data/cache/<run>.jsonl.

    python icl_retriever_app.py --config configs/experiments/medqa_open_cpu.yaml &
    python cache_results_rag.py --config configs/experiments/medqa_open_cpu.yaml

The service needs retriever.passages.path (the collection). Rerun it after an interruption:
finished records are skipped (and not retrieved again). --shard I/N caches one shard (see
scripts/merge_shards.py).
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

METHOD = "rag"

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument("--overwrite", action="store_true", help="discard this run's earlier cache")
add_shard_args(parser)  # --shard I/N, or the SLURM array task's shard
args = parser.parse_args()
cfg = config_from_args(args)
shard = shard_from_args(args)
rag = cfg["rag"]

task = load_task(cfg["task"])
template = PromptTemplate(task.prompt_path(METHOD))
records = shard_records(cfg, task, shard)
k, rerank_to = int(rag["k"]), rag["rerank_to"]
if k < 1 or (rerank_to is not None and not 1 <= int(rerank_to) <= k):
    raise ConfigError(
        f"rag.k must be at least 1 and rag.rerank_to null or between 1 and k; "
        f"got k={k}, rerank_to={rerank_to}."
    )

# The service first: a missing one is a one-line error before minutes of model loading.
client = icl.RetrieverClient(
    icl.retriever_url(cfg),
    rag["timeout_s"],
    icl.retriever_start_command(args.config, args.overrides),
)
retriever = icl.retriever_identity(client.health())
if not retriever.get("passages"):
    raise ConfigError(
        f"the retriever service at {client.url} serves no passage collection; "
        "start it with retriever.passages.path set (the same --config)."
    )
print(f"retriever {client.url}: {retriever['passages']}")

name = run_name(cfg, METHOD)
cache_path, manifest_path = cache_paths(cfg, name, shard, writer=True)
if args.overwrite:
    cache_path.unlink(missing_ok=True)
print(
    f"run {name}: {len(records)} records, k={k} passages each"
    + (f", reranked to {rerank_to}" if rerank_to else "")
    + f" -> {cache_path}"
)

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
    "rag": {"k": k, "rerank_to": rerank_to, "budget": budget.tokens},
    "retriever": retriever,
}
prepare_manifest(manifest_path, cfg, name, METHOD, backend, decisive, args.overwrite, shard)

shortened = []


def build(rec: dict) -> tuple[list[dict], dict]:
    """Retrieve, fit into the budget (least relevant passages go first), render; called only
    for records not cached yet."""
    question = rec[task.input_key]
    passages = client.passages(question, k, rerank_to)
    fitted = icl.fit_examples(
        lambda ps: template.render(task, question, passages=ps),
        passages,
        budget.tokens,
        count_tokens,
    )
    if fitted.dropped:
        shortened.append(rec["id"])
    return fitted.conversation, {
        "rag_passage_ids": [p["id"] for p in fitted.examples],
        "rag_scores": [p.get("score") for p in fitted.examples],
        "rag_rerank_scores": [p.get("rerank_score") for p in fitted.examples],
        "rag_retrieved": len(passages),
        "rag_dropped": len(fitted.dropped),
        "rag_prompt_tokens": fitted.prompt_tokens,
    }


counts = cache_responses(
    records, build, backend, settings, cache_path, name, METHOD, cfg["backend"]["batch_size"]
)
print(f"done: {counts}")
print(f"passages: {len(shortened)} prompts had passages dropped to fit the budget")
if counts["request_errors"]:
    print(f"{counts['request_errors']} requests failed; rerun this command to retry them.")
    sys.exit(1)
