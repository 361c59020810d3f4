"""The review page: a read-only web app to check extractions record by record.

For each record of the configured split: the report with every predicted item highlighted in
its category's colour, gold and prediction side by side per field with the field's scores,
items not found in the report marked, and a switch between runs. Serves on 127.0.0.1 only
(GET only) until SIGTERM or Ctrl-C, or writes the same pages as static HTML files:

    python review_app.py [--config FILE] [--set key=value ...] [--runs RUN ...]
        -> serving on http://127.0.0.1:8770/   (review.port)
    python review_app.py --export DIR [--runs RUN ...]
        -> DIR/index.html, DIR/records/<id>--<run>.html (self-contained, relative links)

Runs: --runs, else review.runs, else this config's runs that evaluate.py has scored (else
those that have a cache).
"""

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from elmtex.config import add_config_args, config_from_args
from elmtex.review import Review, check_export_dir, create_app, export_static, serve

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument("--runs", nargs="+", help="run names to show (default: review.runs, else "
                    "this config's evaluated runs)")
parser.add_argument("--export", metavar="DIR", help="write the pages as static HTML files into "
                    "DIR instead of serving them")
args = parser.parse_args()
cfg = config_from_args(args)

if args.export:
    check_export_dir(args.export)  # before the data are read: a wrong folder fails at once
review = Review(cfg, args.runs)
print(f"{len(review.records)} records, runs: {', '.join(review.runs)}", flush=True)
if args.export:
    pages = export_static(review, args.export)
    print(f"wrote {pages} pages to {args.export} (open {args.export}/index.html in a browser)")
else:
    serve(create_app(review), cfg["review"]["port"], cfg["review"]["threads"])
