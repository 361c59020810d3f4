"""Import the released ELMTEX files into data/<name>/<lang>/<split>.jsonl.

    python scripts/import_elmtex.py path/to/train_en.json path/to/test_en.json --out data/elmtex
    python scripts/import_elmtex.py train.json --lang de --split train

Split and language are read from file names like `test_en.json` unless given. Every record is
validated against the task schema; skipped records are counted by reason.
"""

import argparse
import sys
from pathlib import Path

from elmtex.config import ConfigError, resolve_path
from elmtex.importing import convert_file, guess_split_lang
from elmtex.io import DataError, write_jsonl
from elmtex.task import load_task

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("files", nargs="+", type=Path)
parser.add_argument("--out", default="data/elmtex", help="output folder (default data/elmtex)")
parser.add_argument("--lang", choices=["en", "de"], help="language, if not in the file name")
parser.add_argument("--split", choices=["train", "val", "test"], help="split, if not in the name")
parser.add_argument("--task", default="configs/tasks/elmtex.yaml")
args = parser.parse_args()

try:
    task = load_task(args.task)
except ConfigError as e:
    sys.exit(str(e))
out_dir = resolve_path(args.out)
for path in args.files:
    split, lang = guess_split_lang(path)
    split, lang = args.split or split, args.lang or lang
    if not split or not lang:
        sys.exit(f"{path}: cannot tell the {'split' if not split else 'language'} from the file "
                 "name; pass --split and --lang.")
    try:
        records, reasons, examples = convert_file(path, task, lang, split)
    except (DataError, OSError) as e:
        sys.exit(str(e))
    target = out_dir / lang / f"{split}.jsonl"
    n = write_jsonl(target, records)
    print(f"{path} -> {target}: {n} records written, {sum(reasons.values())} skipped")
    for why, count in reasons.most_common():
        print(f"  skipped {count}: {why}")
    for ex in examples:
        print(f"  e.g. {ex}")
