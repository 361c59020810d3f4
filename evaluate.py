"""Stage: score cached runs against gold, with bootstrap confidence intervals, and compare them.

Per run, data/results/<run>/ gets metrics.json, per_category.csv, per_example.jsonl, report.md,
config.yaml, PNG plots and report.html. With `evaluate.grounding.enabled`, every predicted item
is also grounded in its report (spans in per_example.jsonl, shares of items grounded exactly,
fuzzily or not at all in the reports; ICL runs also count items copied from their examples).
A run that judge.py graded (data/cache/judge-<run>.jsonl) also gets the judge's mean score and
its rank agreement with the automatic metrics. With several runs, data/results/compare-<runs>/
gets the same files for the comparison: every run's metrics on the records they share, and the
paired-bootstrap difference of each run to the baseline. Every run and comparison also gets its
metrics per language, the error analysis (items in the wrong category, strict vs lenient parse
rate, age and gender compared as values) and its cost beside accuracy (docs/error-analysis.md).

    python evaluate.py        # this config's naive, ICL, RAG and fine-tuned runs with a cache
    python evaluate.py --runs naive-qwen2.5-coder-0.5b-instruct-demo-test other-run --baseline ...
    python evaluate.py --grid   # evaluated runs as the study's table: model x method
"""

import argparse
import hashlib
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local scorer models by default

from tqdm import tqdm

from elmtex.analysis_report import compare_by_language, language_split, short_line
from elmtex.bertscore import FieldBertScorer
from elmtex.cache import checked_row_count
from elmtex.config import ConfigError, add_config_args, config_from_args, dump_config, resolve_path
from elmtex.entities import make_entity_backend
from elmtex.error_analysis import analyse_run, compare_analyses
from elmtex.grid import build_grid, grid_html, grid_markdown, place_run
from elmtex.grounding import Grounder, load_example_texts
from elmtex.io import AtomicJsonlWriter, SplitIndex, read_json, read_jsonl, write_text
from elmtex.judge import judge_summary
from elmtex.report import (
    comparison_markdown,
    markdown_table,
    write_comparison,
    write_report_page,
    write_run_results,
)
from elmtex.review_stats import review_summary
from elmtex.reviews import predicted_items, read_all_events
from elmtex.runs import cache_paths, default_runs, judge_run_name
from elmtex.scoring import Policies, score_records
from elmtex.summaries import (
    compare_runs,
    paired_examples,
    per_record_metrics,
    single_run_comparison,
    summarize,
)
from elmtex.task import load_task

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument(
    "--runs",
    nargs="+",
    help="run names (default: evaluate.runs, else every "
    "method's run of this config, and of its fine-tuned model, that has a cache)",
)
parser.add_argument(
    "--baseline",
    help="the run the others are compared with (default: evaluate.baseline, else the first run)",
)
parser.add_argument(
    "--name",
    help="comparison folder under run.results_dir "
    "(default: evaluate.comparison_name, else compare-<runs>)",
)
parser.add_argument(
    "--grid",
    action="store_true",
    help="no scoring: put the runs' metrics.json "
    "(evaluate them first) in the study's table, model x method, placed from "
    "their manifests; written to <results_dir>/<--name or grid>/",
)
parser.add_argument(
    "--grid-metric",
    default="entity_micro_f1",
    help="the headline metric of the grid's cells (default: entity_micro_f1)",
)
args = parser.parse_args()
cfg = config_from_args(args)
ev = cfg["evaluate"]
boot = ev["bootstrap"]

# Which runs: named ones, or this config's run of every method that has a cache.
runs = args.runs or ev["runs"]
if not runs:
    candidates = default_runs(cfg)  # one name if run.name is set
    runs = [r for r in candidates if cache_paths(cfg, r)[0].exists()]
    if not runs:
        sys.exit(
            f"No cached runs for this config (looked for {', '.join(candidates)} in "
            f"{resolve_path(cfg['run']['cache_dir'])}); run cache_results_naive.py first."
        )
runs = list(dict.fromkeys(runs))
for run in runs:
    if not cache_paths(cfg, run)[0].exists():
        sys.exit(
            f"No cache for run '{run}' at {cache_paths(cfg, run)[0]}; run its caching stage first."
        )
baseline = args.baseline or ev["baseline"] or runs[0]
if baseline not in runs:
    raise ConfigError(f"baseline '{baseline}' is not one of the runs: {', '.join(runs)}")
runs.remove(baseline)
runs.insert(0, baseline)  # the baseline comes first in every table
results_dir = resolve_path(cfg["run"]["results_dir"])

if args.grid:  # the study's table from runs already evaluated: no scoring
    placed, evaluated = {}, {}
    for run in runs:
        placed[run] = place_run(read_json(cache_paths(cfg, run)[1]))
        if not (results_dir / run / "metrics.json").exists():
            sys.exit(f"No {results_dir / run / 'metrics.json'}: evaluate run '{run}' first.")
        evaluated[run] = read_json(results_dir / run / "metrics.json")
    grid = build_grid(placed, evaluated, args.grid_metric)
    out_dir = results_dir / (args.name or "grid")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "grid.md", grid_markdown(grid))
    write_text(out_dir / "grid.html", grid_html(grid))
    print(grid_markdown(grid))
    print(f"grid written to {out_dir} (grid.md, grid.html)")
    sys.exit(0)

task = load_task(cfg["task"])
# Gold by id, read from disk per lookup: a 60,000-record split's texts never sit in memory.
gold = SplitIndex(
    resolve_path(cfg["data"]["dir"]),
    cfg["data"]["langs"],
    cfg["data"]["split"],
    task,
    cfg["data"]["limit"],
)
policies = Policies(ev["unparseable"], ev["gold_na"], tuple(ev["exclude_fields"]))
entity_backend = make_entity_backend(ev["entities"]["backend"], task, ev["entities"]["threshold"])
bert = None
if ev["bertscore"]["enabled"]:
    b = ev["bertscore"]
    bert = FieldBertScorer(
        b["model"],
        b["num_layers"],
        b["rescale_with_baseline"],
        b["lang"],
        b["batch_size"],
        dtype=b["dtype"],
    )
config_text = dump_config(cfg)
grounding = ev["grounding"]
# Clinicians' judgements from review_app.py (review.reviews_dir), when there are any.
review_events = read_all_events(resolve_path(cfg["review"]["reviews_dir"]))


def make_grounder(cache_path):
    """The run's Grounder, with the texts (report and gold answer) of the in-context examples
    its rows name, read from the split the retriever indexed; None when grounding is off."""
    if not grounding["enabled"]:
        return None
    example_ids = {
        eid for _, row in read_jsonl(cache_path) for eid in row.get("icl_example_ids") or ()
    }
    examples = {}
    if example_ids:
        examples = load_example_texts(
            resolve_path(cfg["data"]["dir"]),
            cfg["data"]["langs"],
            cfg["retriever"]["split"],
            task,
            example_ids,
        )
        if len(examples) < len(example_ids):
            print(
                f"warning: {len(example_ids) - len(examples)} of {len(example_ids)} in-context "
                f"example ids of {cache_path.name} are not in {cfg['data']['dir']} "
                f"({cfg['retriever']['split']} split); the ICL copy check skips them."
            )
    return Grounder(task, grounding["fuzzy_threshold"], examples)


scores_by_run, metrics_by_run, analyses = {}, {}, {}
for run in runs:
    cache_path, _ = cache_paths(cfg, run)
    out_dir = results_dir / run
    total = checked_row_count(cache_path)  # a duplicated id is an error, not a silent pick
    with (
        tqdm(total=total, desc=f"scoring {run}", unit="answer") as bar,
        AtomicJsonlWriter(out_dir / "per_example.jsonl") as examples,
    ):
        scores = score_records(
            task,
            gold,
            (row for _, row in read_jsonl(cache_path)),
            policies,
            ev["rouge_stemming"],
            entity_backend,
            bert,
            on_example=examples.write,
            progress=bar.update,
            grounder=make_grounder(cache_path),
            bleu=ev["bleu"],
        )
    metrics = summarize(
        scores, policies, entity_backend.name, bert.describe() if bert is not None else None, **boot
    )
    metrics["per_language"] = language_split(
        scores, policies, entity_backend.name, metrics["bertscore"], **boot
    )
    manifest_path = cache_paths(cfg, run)[1]
    analyses[run] = analyse_run(
        task,
        gold,
        (row for _, row in read_jsonl(cache_path)),
        scores.text_fields,
        ev["entities"]["threshold"],
        read_json(manifest_path) if manifest_path.exists() else None,
        **boot,
    )
    metrics["error_analysis"] = analyses[run].summary
    judge_path, judge_manifest = cache_paths(cfg, judge_run_name(run))
    judged = read_json(judge_manifest) if judge_path.exists() else None
    if judged and judged["decisive"].get("judged_fingerprint") != read_json(
        cache_paths(cfg, run)[1]
    ).get("fingerprint"):
        print(
            f"warning: {judge_path.name} graded earlier answers of {run} (the run was cached "
            "again since); judge it again: python judge.py --overwrite --runs " + run
        )
        judged = None
    if judged:  # judge.py graded this run: its scores against the metrics above
        metrics["judge"] = {
            "judge_model": judged["model"]["name_or_path"],
            "cache": judge_path.name,
            **judge_summary(
                scores.ids,
                per_record_metrics(scores),
                {row["id"]: row for _, row in read_jsonl(judge_path)},
                boot,
            ),
        }
    if review_events:  # human-judged precision and agreement with the automatic matching
        pred = {
            rid: p
            for rid, p in predicted_items(task, (row for _, row in read_jsonl(cache_path))).items()
            if rid in gold
        }
        human = review_summary(
            task,
            run,
            review_events,
            pred,
            {rid: gold[rid][task.output_key] for rid in pred},
            ev["entities"]["threshold"],
            boot,
        )
        if human:
            metrics["human_review"] = human
    write_run_results(out_dir, run, metrics, config_text)
    page = write_report_page(out_dir, run, single_run_comparison(run, metrics), {run: metrics})
    scores_by_run[run], metrics_by_run[run] = scores, metrics
    print()
    print(markdown_table(metrics, run))
    print(short_line(metrics))
    if metrics["missing_ids"]:
        print(
            f"warning: {len(metrics['missing_ids'])} selected records have no cached answer "
            f"in {cache_path}; rerun the caching stage to fill them in."
        )
    print(f"results written to {out_dir} (open {page.name} in a browser)")

if len(runs) > 1:
    name = args.name or ev["comparison_name"] or "compare-" + "-vs-".join(runs)
    if len(name) > 150:  # keep folder names within file system limits
        name = name[:130] + "-" + hashlib.sha1("|".join(runs).encode()).hexdigest()[:8]
    out_dir = results_dir / name
    comparison = compare_runs(scores_by_run, baseline, **boot)
    comparison["per_language"] = compare_by_language(scores_by_run, baseline, **boot)
    comparison["error_analysis"] = compare_analyses(analyses, baseline, **boot)
    page = write_comparison(
        out_dir, f"Comparison against {baseline}", comparison, metrics_by_run, config_text
    )
    with AtomicJsonlWriter(out_dir / "per_example.jsonl") as examples:
        for row in paired_examples(scores_by_run):
            examples.write(row)
    print()
    print(comparison_markdown(comparison))
    print(f"comparison written to {out_dir}; open {page} in a browser")
