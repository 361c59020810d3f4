"""Shared code for the ELMTEX pipeline: the stage scripts at the repository root import it.
Install it editable (make setup, or pip install -e .): configs/, prompts/ and data/ stay in the
repository, where ROOT finds them.

Data flows one way: data/<set>/*.jsonl -> data/cache/<run>.jsonl -> data/results/<run>/.
The modules in that order (tests/test_repository.py checks that no import cycle joins them):

Configuration and inputs
    errors.py             UserError and ConfigError: what a user can fix from the message
    config.py             default.yaml <- experiment file <- --set values; helpful errors
    guards.py             config ranges, file names, secrets, one writer per cache, Host names
    hardware.py           `auto` precision from the machine (bf16 only where it is native)
    task.py               the task schema (configs/tasks/*.yaml): fields, types, N/A
    io.py                 JSONL and JSON: readers that name file and line, atomic writers
    importing.py          the released ELMTEX files -> JSONL records (scripts/import_elmtex.py)
    sharding.py           --shard I/N: which records a process caches; merging the shards
    runs.py               run names and the paths the stages read and write
    provenance.py         code revision, package versions, the benchmark header
Generation (cache_results_*.py, judge.py) and fine-tuning (finetune.py)
    local_models.py       small offline models prepared from GGUF files shipped on PyPI
    prompts.py            prompt files rendered for a task and a record
    constrained.py        the answer's JSON schema and the token masks that enforce it
    backends.py           transformers, vLLM and OpenAI-compatible servers behind one interface
    parsing.py            the JSON answer out of raw model text
    cache.py              render, generate, parse, append to data/cache/<run>.jsonl + manifest
    retrieval.py          embeddings and FAISS indexes over the training split and passages
    passages.py           the passage collection for retrieval-augmented prompts; rerankers
    retrieval_service.py  the retriever's HTTP service (icl_retriever_app.py)
    icl.py                the retriever's client; fitting the examples into the context
    finetune.py           (Q)LoRA: chat data, label masks, the trainer, the adapter merge
Evaluation (evaluate.py)
    entities.py           entity-level precision, recall and F1 of one field
    grounding.py          where each predicted item stands in its report
    bertscore.py          BERTScore F1 per field
    qa.py                 the choice a multiple-choice answer names; sentence BLEU
    scoring.py            per-record scores of a cached run against gold, under the policies
    run_scores.py         those scores on disk, one row per gold record
    stats.py              seeded bootstrap CIs and paired differences, streamed over records
    summaries.py          the report's metrics with CIs; comparisons of runs
    costs.py              what a run cost: speed, tokens, peak memory (cache.py records it)
    misplaced.py          items in the wrong category: predicted x gold category
    normalise.py          age and gender compared as values
    error_analysis.py     misplaced items, parse paths, age/gender, cost; CIs per language
    judge.py              the LLM-as-judge stage: the judgment's schema, texts, agreement
    plots.py              PNG plots
    report_tables.py      what every report shares: CI cells, run labels, comparison tables
    analysis_report.py    the error-analysis tables and plots of the reports
    grid.py               the study's table over many runs: model x method
    report.py             Markdown, HTML, CSV and JSON result files
Review (review_app.py; its numbers in evaluate.py)
    review.py             the review page: every predicted item highlighted in its report
    reviews.py            the clinicians' judgements, an append-only JSONL store
    review_mode.py        review mode of the page: the forms that judge items
    review_stats.py       numbers from the reviews: human-judged precision, missed items
synth/                    generators of the shipped synthetic data (scripts/make_*_data.py)
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # repository root; relative config paths resolve here

__version__ = "0.1.0"
