"""Print the `vllm serve` command line a config asks for, one argument per line (for run_llm.sh).

    python scripts/vllm_serve_args.py [--config FILE] [--set key=value ...] [--model MODEL]

First line: the model (a prepared local name resolves to its folder under models/); then the
flags from backend.vllm (tensor, pipeline and data parallel sizes, executor backend, maximum
model length, GPU memory share), model.dtype and generation.seed, and --served-model-name
model.name_or_path, the name the openai backend asks for by default.
"""

import argparse
import json

from elmtex.config import add_config_args, config_from_args
from elmtex.hardware import resolve_dtype, resolve_enforce_eager
from elmtex.local_models import resolve_model_path

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument("--model", help="serve this model instead of model.name_or_path")
args = parser.parse_args()
cfg = config_from_args(args, show=False)
v = cfg["backend"]["vllm"]
name = args.model or cfg["model"]["name_or_path"]
argv = [
    resolve_model_path(name, cfg["model"]["models_dir"]),
    "--served-model-name",
    str(name),
    "--tensor-parallel-size",
    str(v["tensor_parallel_size"]),
    "--pipeline-parallel-size",
    str(v["pipeline_parallel_size"]),
    "--data-parallel-size",
    str(v["data_parallel_size"]),
    "--max-model-len",
    str(v["max_model_len"]),
    "--gpu-memory-utilization",
    str(v["gpu_memory_utilization"]),
    # auto: bf16 only where native (vLLM's own auto is the checkpoint's, bf16 here)
    "--dtype",
    resolve_dtype(str(cfg["model"]["dtype"]), "auto"),
    "--seed",
    str(cfg["generation"]["seed"]),
]
# Structured outputs (response_format) through llguidance, as the in-process backend does: it
# honours the schema's whitespace guard (vLLM's default engine, xgrammar, would ignore it).
argv += [
    "--structured-outputs-config",
    json.dumps(
        {
            "backend": "guidance",
            "disable_any_whitespace": cfg["generation"]["json_whitespace"] == "compact",
        }
    ),
]
if not v["prefix_caching"]:
    argv += ["--no-enable-prefix-caching"]
if resolve_enforce_eager(v["enforce_eager"]):  # auto: eager on a CPU
    argv += ["--enforce-eager"]
if v["distributed_executor_backend"]:
    argv += ["--distributed-executor-backend", str(v["distributed_executor_backend"])]
print("\n".join(argv))
