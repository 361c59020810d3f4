"""Merge a fine-tuned LoRA adapter into its base model; save a plain model folder under models/.

    python scripts/merge_model_lora.py --config configs/experiments/finetune_cpu_demo.yaml
    python scripts/merge_model_lora.py --adapter models/NAME-lora/checkpoint-50 --out models/NAME-50

The result (safetensors, config, generation config, tokenizer with its chat template, and
merged.json recording where it came from) loads like any model: point model.name_or_path at it
and run cache_results_naive.py, with the transformers backend or with vLLM, which then needs no
LoRA support. The merge runs in float32 and its logits are compared with base + adapter
(unmerged, float32) on a few val examples: the largest difference shows the merge is exact (it
is ~1e-5). The model is then cast to finetune.merge_dtype (bf16), saved, reloaded and compared
with the float32 merge: that difference is the cost of storing bf16 weights, the same rounding
any bf16 model carries.

QLoRA adapters are merged into the base model's original bf16 weights, not into the nf4 weights
they were trained against. Adding the low-rank update to 4-bit weights would mean dequantising,
adding and quantising again: the update (small next to the quantisation steps) would be mostly
rounded away, and the result would still be a 4-bit model that vLLM serves only with bitsandbytes.
The bf16 base is what nf4 approximates, so W_bf16 + BA differs from what training saw
(dequant(W_nf4) + BA) only by the base's own quantisation error; the usual QLoRA practice, and
the better model in practice. On a GPU with bitsandbytes the script also prints how far the
merged model is from nf4 base + adapter, so that gap is measured, not assumed.
"""

import argparse
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local models by default; HF_HUB_OFFLINE=0 uses a hub

from elmtex.config import add_config_args, config_from_args
from elmtex.finetune import (
    SUMMARY_FILE,
    FinetuneError,
    base_model_path,
    check_inputs,
    compare_logits,
    logits_of,
    read_chat_file,
)
from elmtex.io import read_json, write_json
from elmtex.local_models import sha256_file
from elmtex.runs import finetune_paths

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument("--adapter", type=Path, help="adapter folder (default: models/<name>-lora)")
parser.add_argument("--out", type=Path, help="merged model folder (default: models/<name>)")
parser.add_argument("--check-tokens", type=int, default=256,
                    help="tokens per example in the logit check (the last ones of each)")
parser.add_argument("--overwrite", action="store_true",
                    help="merge again even where the merged model is already this adapter's")
parser.add_argument("--merge-dtype", default="float32",
                    help="dtype the merge and its check run in (bfloat16 halves the memory of "
                         "an 8B merge, at the price of a check only as tight as bf16)")
args = parser.parse_args()
cfg = config_from_args(args)
ft = cfg["finetune"]
paths = finetune_paths(cfg)
adapter_dir = (args.adapter or paths.adapter_dir).resolve()
out_dir = (args.out or paths.merged_dir).resolve()
if not (adapter_dir / "adapter_config.json").exists():
    raise FinetuneError(f"{adapter_dir} holds no adapter (adapter_config.json). Run finetune.py "
                        "first, or pass --adapter with a checkpoint folder.")
summary = read_json(adapter_dir / SUMMARY_FILE) if (adapter_dir / SUMMARY_FILE).exists() else {}
if not summary:
    print(f"note: {adapter_dir} has no {SUMMARY_FILE} (a checkpoint, or an unfinished run)")
base_path = base_model_path(cfg)
adapter_sha256 = sha256_file(adapter_dir / "adapter_model.safetensors")
made = {"base_model": base_path, "adapter_sha256": adapter_sha256, "dtype": ft["merge_dtype"],
        "merge_dtype": args.merge_dtype}  # what decides the merged weights
done = out_dir / "merged.json"
if done.exists() and not args.overwrite:
    old = read_json(done)
    if {k: old.get(k) for k in made} == made:
        print(f"{out_dir} is already this adapter merged into {base_path}: nothing to do "
              "(--overwrite merges again).")
        raise SystemExit(0)

import torch  # after the config: a typo fails fast, without these imports
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

dtype = getattr(torch, ft["merge_dtype"])  # what is saved
work_dtype = getattr(torch, args.merge_dtype)  # what the merge runs in
tokenizer = AutoTokenizer.from_pretrained(base_path)
rows = read_chat_file(paths.val_file) if paths.val_file.exists() else []
if not rows:
    # No val data: any chat works for an equivalence check.
    rows = [{"messages": [{"role": "user", "content": "Summarise: 58-year-old man with type 2 "
                           "diabetes, admitted for chest pain."},
                          {"role": "assistant", "content": '{"diagnosis": "N/A"}'}]}]
inputs = check_inputs(tokenizer, rows, ft["merge_check_records"], args.check_tokens)

start = time.monotonic()
print(f"merging {adapter_dir} into {base_path} ({args.merge_dtype}, saved as "
      f"{ft['merge_dtype']})")
base = AutoModelForCausalLM.from_pretrained(base_path, dtype=work_dtype).eval()
model = PeftModel.from_pretrained(base, str(adapter_dir)).eval()
unmerged = logits_of(model, inputs)
merged = model.merge_and_unload()  # W <- W + (alpha/r) * B @ A, in place; the LoRA layers go
after_merge = compare_logits(unmerged, logits_of(merged, inputs))
print(f"merged vs base + adapter: max |logit diff| {after_merge['max_abs_diff']:.4g} "
      f"(largest |logit| {after_merge['max_abs_logit']:.3g}; top-1 token agrees at "
      f"{after_merge['top1_agreement']:.1%} of {sum(x.shape[1] for x in unmerged)} positions)")

# Save beside the target and swap into place only when complete: never a half-written model.
out_dir.parent.mkdir(parents=True, exist_ok=True)
tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
try:
    merged_logits = logits_of(merged, inputs)
    merged = merged.to(dtype)
    merged.config.dtype = dtype  # config.json says what the weights are
    merged.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)  # with its chat template: the prompts depend on it
    reloaded = AutoModelForCausalLM.from_pretrained(tmp, dtype=dtype).eval()
    after_save = compare_logits(merged_logits, logits_of(reloaded, inputs))
    print(f"saved ({ft['merge_dtype']}) vs merged ({args.merge_dtype}): max |logit diff| "
          f"{after_save['max_abs_diff']:.4g}, top-1 agreement {after_save['top1_agreement']:.1%}")
    if AutoTokenizer.from_pretrained(tmp).chat_template != tokenizer.chat_template:
        raise FinetuneError("the chat template was lost when saving the tokenizer")
    info = {
        **made, "adapter": str(adapter_dir),
        "training": summary, "check_inputs": len(inputs), "check_tokens": args.check_tokens,
        "merged_vs_base_plus_adapter": after_merge, "saved_vs_merged": after_save,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - start, 1),
    }
    if summary.get("mode") == "qlora" and torch.cuda.is_available():
        # What training saw: the nf4 base + adapter. The gap is the base's quantisation error.
        from transformers import BitsAndBytesConfig

        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                               bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=torch.bfloat16)
        qbase = AutoModelForCausalLM.from_pretrained(base_path, quantization_config=q,
                                                     device_map={"": 0})
        qmodel = PeftModel.from_pretrained(qbase, str(adapter_dir)).eval()
        vs_nf4 = compare_logits(logits_of(qmodel, inputs), logits_of(reloaded, inputs))
        info["merged_vs_nf4_base_plus_adapter"] = vs_nf4
        print(f"merged (bf16 base) vs nf4 base + adapter: max |logit diff| "
              f"{vs_nf4['max_abs_diff']:.4g}, top-1 agreement {vs_nf4['top1_agreement']:.1%}")
    write_json(tmp / "merged.json", info)
    for f in tmp.iterdir():  # mkdtemp and safetensors write owner-only files
        f.chmod(0o644)
    tmp.chmod(0o755)
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    if out_dir.exists():
        out_dir.rename(old)
    tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
finally:
    shutil.rmtree(tmp, ignore_errors=True)  # a no-op after the rename
print(f"merged model: {out_dir} ({time.monotonic() - start:.0f} s). Use it with "
      f"--set model.name_or_path={out_dir}")
