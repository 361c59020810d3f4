#!/usr/bin/env bash
# Serve a model with vLLM's OpenAI-compatible server on 127.0.0.1:8000 (GPU box).
#   bash scripts/run_llm.sh meta-llama/Llama-3.1-8B-Instruct [extra vllm serve args]
# Then point the `openai` backend at it (configs/experiments/openai_server_naive.yaml).
# Environment: PORT (8000), TP (tensor parallel size, 1), MAX_MODEL_LEN (15360, as the study).
set -euo pipefail
model="${1:?usage: run_llm.sh MODEL [vllm serve args...]}"
shift
exec vllm serve "$model" \
  --host 127.0.0.1 --port "${PORT:-8000}" \
  --tensor-parallel-size "${TP:-1}" \
  --max-model-len "${MAX_MODEL_LEN:-15360}" \
  --dtype bfloat16 --seed 1234 \
  "$@"
