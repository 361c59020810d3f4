#!/usr/bin/env bash
# GPU check (a CUDA box with this repository's requirements and a CUDA build of torch):
#  1. the transformers backend on CUDA, model.dtype auto (bf16 there), 8 naive demo prompts:
#     generated tokens/s and peak GPU memory;
#  2. QLoRA on the same small model (nf4 base, double quantisation, LoRA r=8): a few optimizer
#     steps, seconds per step, peak GPU memory, and that the adapters' gradients are non-zero.
#
#   bash scripts/gpu_check.sh [MODEL]      # MODEL: smollm2-135m-instruct (default), any folder
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python}"
[[ -z "${PYTHON:-}" && -x .venv/bin/python ]] && python=.venv/bin/python
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" MODEL="${1:-smollm2-135m-instruct}"
exec "$python" - <<'EOF'
import os
import time

import torch

from elmtex.backends import GenerationSettings, TransformersBackend
from elmtex.finetune import load_base_for_training
from elmtex.hardware import describe
from elmtex.io import load_split
from elmtex.local_models import LOCAL_MODELS, prepare_local_model, resolve_model_path
from elmtex.prompts import PromptTemplate
from elmtex.task import load_task

if not torch.cuda.is_available():
    raise SystemExit("gpu_check: no CUDA GPU visible to torch")
name = os.environ["MODEL"]
path = str(prepare_local_model(name, "models")) if name in LOCAL_MODELS else \
    resolve_model_path(name)
print(f"hardware: {describe('cuda')}")

task = load_task("configs/tasks/elmtex.yaml")
template = PromptTemplate(task.prompt_path("naive"))
from pathlib import Path  # noqa: E402

records = load_split(Path("data/demo"), ["en", "de"], "test", task, 4)
convs = [template.render(task, r["report"]) for r in records]
backend = TransformersBackend(path, "auto", "cuda")
torch.cuda.reset_peak_memory_stats()
t0 = time.perf_counter()
gens = backend.generate(convs, GenerationSettings(max_new_tokens=256))
secs = time.perf_counter() - t0
tokens = sum(g.completion_tokens for g in gens)
print(f"generation: {backend.dtype}, {len(convs)} prompts in one batch, {tokens} tokens in "
      f"{secs:.1f} s = {tokens / secs:.0f} tok/s; peak GPU memory "
      f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
del backend
torch.cuda.empty_cache()

from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

torch.cuda.reset_peak_memory_stats()
model = load_base_for_training(path, "qlora", "bfloat16", "sdpa", gradient_checkpointing=True)
model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear",
                                         task_type="CAUSAL_LM"))
tok = AutoTokenizer.from_pretrained(path)
batch = tok([r["report"] for r in records[:2]], return_tensors="pt", padding=True,
            truncation=True, max_length=512).to("cuda")
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
losses, t0 = [], time.perf_counter()
for step in range(4):
    out = model(**batch, labels=batch["input_ids"])
    out.loss.backward()
    grad = sum(float(p.grad.abs().sum()) for p in model.parameters() if p.grad is not None)
    if step == 0 and grad == 0:
        raise SystemExit("QLoRA: every adapter gradient is zero after the first step")
    opt.step()
    opt.zero_grad()
    losses.append(round(out.loss.item(), 4))
print(f"QLoRA: losses {losses}, {(time.perf_counter() - t0) / 4:.2f} s/step, peak GPU memory "
      f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
EOF
