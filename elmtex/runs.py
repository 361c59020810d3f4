"""Run names and where the stages read and write: the naming that several stages share.

A caching stage writes data/cache/<run>.jsonl (`run_name`, `cache_paths`); evaluate.py,
judge.py, review_app.py and scripts/merge_shards.py find a config's runs again by the same
names (`default_runs`), including the naive run of the model that the fine-tuning stages make
(`finetune_paths`). Only config, guards and sharding below it: every stage may import it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from elmtex.config import resolve_path
from elmtex.guards import check_file_name, hold_writer_lock
from elmtex.sharding import Shard

# Prompting methods with a caching stage; evaluate.py looks for a run of each by default.
METHODS = ("naive", "advanced_icl", "rag")


def slug(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "._-" else "-" for c in text.strip("/").lower())
    return "-".join(p for p in keep.split("-") if p)


def run_name(cfg: dict, method: str) -> str:
    """The configured run name, or <method>-<model>-<data set>-<split>; a constrained run's
    method part is <method>_constrained, so it never shares a name with an unconstrained one."""
    if cfg["run"]["name"]:
        return cfg["run"]["name"]
    model = slug(Path(str(cfg["model"]["name_or_path"])).name)
    data = slug(Path(cfg["data"]["dir"]).name)
    if cfg["generation"].get("constrained"):
        method = f"{method}_constrained"
    return f"{method}-{model}-{data}-{cfg['data']['split']}"


def judge_run_name(run: str) -> str:
    """The judge stage's cache of one run: data/cache/judge-<run>.jsonl."""
    return f"judge-{run}"


def default_runs(cfg: dict) -> list[str]:
    """This config's run of every prompting method, then the naive run of its fine-tuned model
    (models/<finetune.name>, what finetune.py and merge_model_lora.py make of this model)."""
    tuned = copy.deepcopy(cfg)
    tuned["model"]["name_or_path"] = str(finetune_paths(cfg).merged_dir)
    return list(dict.fromkeys([*(run_name(cfg, m) for m in METHODS), run_name(tuned, "naive")]))


def cache_paths(
    cfg: dict, name: str, shard: Shard | None = None, writer: bool = False
) -> tuple[Path, Path]:
    """data/cache/<run>.jsonl and its manifest; a shard's are <run>.shard-000I-of-000N.*
    (elmtex/sharding.py), which scripts/merge_shards.py joins into the run's own. The run name
    must be a file name (no '/', no '..'). `writer`: this process will write the cache, so it
    takes the cache's one-writer lock now, before a model loads (guards.hold_writer_lock)."""
    check_file_name(name, "The run name")
    d = resolve_path(cfg["run"]["cache_dir"])
    stem = name + (shard.suffix() if shard is not None else "")
    paths = d / f"{stem}.jsonl", d / f"{stem}.manifest.json"
    if writer:
        hold_writer_lock(paths[0])
    return paths


@dataclass(frozen=True)
class FinetunePaths:
    name: str
    data_dir: Path  # data/cache/finetune/<name>/{train,val}.jsonl, stats.json
    adapter_dir: Path  # models/<name>-lora/: checkpoints, final adapter, logs
    merged_dir: Path  # models/<name>/: the merged model

    @property
    def train_file(self) -> Path:
        return self.data_dir / "train.jsonl"

    @property
    def val_file(self) -> Path:
        return self.data_dir / "val.jsonl"


def finetune_paths(cfg: dict) -> FinetunePaths:
    """Where each fine-tuning stage reads and writes; `finetune.name` or <base model>-ft."""
    ft = cfg["finetune"]
    name = ft["name"] or f"{slug(Path(str(cfg['model']['name_or_path'])).name)}-ft"
    models = resolve_path(cfg["model"]["models_dir"])
    return FinetunePaths(
        name=name,
        data_dir=resolve_path(ft["data_dir"]) / name,
        adapter_dir=models / f"{name}-lora",
        merged_dir=models / name,
    )
