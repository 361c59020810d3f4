"""Stage: the in-context example retriever, a small web service over the training split.

Embeds every record of `retriever.split` (per language in data.langs; data.limit does not
apply), builds one FAISS index per language (or reuses the stored one while its fingerprint
holds), then serves with waitress until SIGTERM or Ctrl-C:

    python icl_retriever_app.py [--config FILE] [--set key=value ...]

    GET  /health    -> {"status": "ok", "languages": {"en": 300, ...}, "model", "index", ...}
    POST /retrieve  {"report": str, "k": int, "lang": str, "exclude_ids": [str, ...]}
                    -> {"examples": [{"id", "report", "summary", "score"}, ...],
                        "timing": {"embed_ms", "queue_ms", "search_ms"}}
"""

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local models by default; HF_HUB_OFFLINE=0 uses a hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # the request threads share one model

from elmtex.config import add_config_args, config_from_args
from elmtex.retrieval import Retriever
from elmtex.retrieval_service import create_app, serve
from elmtex.task import load_task

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
args = parser.parse_args()
cfg = config_from_args(args)
rc = cfg["retriever"]

retriever = Retriever.from_config(cfg, load_task(cfg["task"]))
app = create_app(
    retriever,
    max_k=rc["max_k"],
    max_body_bytes=rc["max_body_bytes"],
    torch_threads=rc["torch_threads"],
    host=rc["host"],
)
serve(app, rc["host"], rc["port"], threads=rc["threads"])
