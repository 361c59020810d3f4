"""Import the released ELMTEX files into data/<name>/<lang>/<split>.jsonl.

    python scripts/import_elmtex.py path/to/train_en.json path/to/test_en.json --out data/elmtex
    python scripts/import_elmtex.py train.json --lang de --split train

Split and language are read from file names like `test_en.json` unless given. Every record is
validated against the task schema; skipped records are counted by reason. Several files for one
language and split are merged (a duplicate id is skipped and counted). An existing split file is
replaced only with --overwrite; an input with no valid record writes nothing.
"""

import argparse
import sys
from pathlib import Path

from elmtex.config import ConfigError, resolve_path
from elmtex.importing import LONG_REPORT_CHARS, convert_files, guess_split_lang, long_reports
from elmtex.io import DataError, write_jsonl
from elmtex.task import load_task

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("files", nargs="+", type=Path)
parser.add_argument("--out", default="data/elmtex", help="output folder (default data/elmtex)")
parser.add_argument("--lang", choices=["en", "de"], help="language, if not in the file name")
parser.add_argument("--split", choices=["train", "val", "test"], help="split, if not in the name")
parser.add_argument("--task", default="configs/tasks/elmtex.yaml")
parser.add_argument(
    "--overwrite",
    action="store_true",
    help="replace an existing <lang>/<split>.jsonl (without it: refused)",
)
args = parser.parse_args()

try:
    task = load_task(args.task)
except ConfigError as e:
    sys.exit(f"error: {e}")
out_dir = resolve_path(args.out)
# Inputs grouped by (lang, split): several files for one split are merged into one file.
groups: dict[tuple[str, str], list[Path]] = {}
for path in args.files:
    split, lang = guess_split_lang(path)
    split, lang = args.split or split, args.lang or lang
    if not split or not lang:
        sys.exit(
            f"error: {path}: cannot tell the {'split' if not split else 'language'} from "
            "the file name; pass --split and --lang."
        )
    if not path.is_file():
        sys.exit(f"error: {path}: file not found")
    groups.setdefault((lang, split), []).append(path)
# Nothing is written unless every target may be: an existing split is never replaced silently.
existing = [
    out_dir / lang / f"{split}.jsonl"
    for lang, split in groups
    if (out_dir / lang / f"{split}.jsonl").exists()
]
if existing and not args.overwrite:
    sys.exit(
        f"error: {existing[0]} exists; nothing was written. Pass --overwrite to replace "
        "it, or --out another folder."
    )
converted = {}
for (lang, split), paths in groups.items():
    try:
        converted[lang, split] = convert_files(paths, task, lang, split)
    except (DataError, OSError) as e:
        sys.exit(f"error: {e}; nothing was written.")
    if not converted[lang, split][0]:
        sys.exit(
            f"error: no valid record in {', '.join(map(str, paths))} for {lang}/{split}; "
            "nothing was written."
        )
for (lang, split), (records, reasons, examples) in converted.items():
    target = out_dir / lang / f"{split}.jsonl"
    n = write_jsonl(target, records)
    sources = " + ".join(str(p) for p in groups[lang, split])
    print(f"{sources} -> {target}: {n} records written, {sum(reasons.values())} skipped")
    for why, count in reasons.most_common():
        print(f"  skipped {count}: {why}")
    for ex in examples:
        print(f"  e.g. {ex}")
    long = long_reports(records, task)
    if long:
        print(
            f"  warning: {len(long)} report(s) longer than {LONG_REPORT_CHARS:,} characters "
            f"(longest: {long[0][0]}, {long[0][1]:,}); no small model takes them whole: the "
            "caching stages will record them as too_long"
        )
