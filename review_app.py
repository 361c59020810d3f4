"""The review page: check extractions record by record, and (review mode) judge them.

For each record of the configured split: the report with every predicted item highlighted in
its category's colour, gold and prediction side by side per field with the field's scores,
items not found in the report marked, and a switch between runs. Serves on 127.0.0.1 only
until SIGTERM or Ctrl-C, or writes the same pages as static HTML files:

    python review_app.py [--config FILE] [--set key=value ...] [--runs RUN ...]
        -> serving on http://127.0.0.1:8770/   (review.port; read-only)
    python review_app.py --reviewer NAME [--runs RUN ...]      (or review.reviewer)
        -> review mode: a verdict per predicted item, missed items, a note and "done" per
           record, stored in data/reviews/NAME.jsonl (review.reviews_dir); see docs/review.md
    python review_app.py --export DIR [--runs RUN ...]
        -> DIR/index.html, DIR/records/<id>--<run>.html (self-contained, relative links)
    python review_app.py --export-gold DIR [--runs RUN]
        -> DIR/<lang>/<split>.jsonl: the records reviewers marked done, corrected by their
           judgements, and DIR/provenance.json

Runs: --runs, else review.runs, else this config's runs that evaluate.py has scored (else
those that have a cache).
"""

import argparse
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from elmtex.config import add_config_args, config_from_args, resolve_path
from elmtex.review import Review, check_export_dir, create_app, export_static, serve
from elmtex.reviews import ReviewStore, export_gold, predicted_items, read_all_events

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument(
    "--runs",
    nargs="+",
    help="run names to show (default: review.runs, else this config's evaluated runs)",
)
parser.add_argument(
    "--export",
    metavar="DIR",
    help="write the pages as static HTML files into DIR instead of serving them",
)
parser.add_argument(
    "--reviewer",
    help="review mode under this name (default: review.reviewer; neither: read-only pages)",
)
parser.add_argument(
    "--export-gold",
    metavar="DIR",
    help="write the reviewed records, corrected "
    "by the reviews, as a dataset into DIR (DIR/<lang>/<split>.jsonl)",
)
args = parser.parse_args()
cfg = config_from_args(args)
reviews_dir = resolve_path(cfg["review"]["reviews_dir"])

if args.export:
    check_export_dir(args.export)  # before the data are read: a wrong folder fails at once
review = Review(cfg, args.runs)
print(f"{len(review.records)} records, runs: {', '.join(review.runs)}", flush=True)
if args.export_gold:
    events = read_all_events(reviews_dir)
    reviewed = [r for r in review.runs if any(e["run"] == r for e in events)]
    if len(reviewed) != 1:
        sys.exit(
            f"--export-gold takes the reviews of one run; runs with reviews here: "
            f"{', '.join(reviewed) or 'none'} (name one with --runs RUN)."
        )
    run = review.run(reviewed[0])
    prov = export_gold(
        review.task,
        review.records,
        predicted_items(review.task, run.rows.values()),
        events,
        run.name,
        cfg["data"]["split"],
        args.export_gold,
    )
    print(
        f"wrote {prov['counts']['records']} corrected records of {run.name} "
        f"({', '.join(prov['reviewers'])}) to {args.export_gold}: {prov['counts']}"
    )
    if prov["counts"]["records"]:  # only the reviewed languages have a file; results apart
        print(
            f"score a run against it: python evaluate.py --set data.dir={args.export_gold} "
            f"--set data.langs=[{','.join(prov['langs'])}] --set data.limit=null "
            f"--set run.results_dir={args.export_gold}/results --runs {run.name}"
        )
elif args.export:
    pages = export_static(review, args.export)
    print(f"wrote {pages} pages to {args.export} (open {args.export}/index.html in a browser)")
else:
    reviewer = args.reviewer or cfg["review"]["reviewer"]
    store = ReviewStore(reviews_dir, reviewer) if reviewer else None
    if store is not None:
        print(
            f"review mode: {reviewer}, judgements go to {store.path}"
            + (" (a torn last line was cut off)" if store.repaired else ""),
            flush=True,
        )
    r = cfg["review"]
    serve(create_app(review, store, r["allowed_hosts"], r["max_body_kb"]), r["port"], r["threads"])
