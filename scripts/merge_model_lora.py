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

A QLoRA adapter was trained against the dequantised nf4 weights. finetune.qlora_merge_into
says which full-precision base it is added to: `original` (the default: the base model's own
weights, which nf4 approximates; the merged model is then the fine-tuned full-precision model,
and differs from what training saw by the base's quantisation error) or `dequantized` (the nf4
weights dequantised: exactly what training saw, quantisation error included). Either way the
merge is checked against the unmerged base + adapter it was made from, and the merged model is
also compared with the nf4 base + adapter (bitsandbytes, CPU or GPU) that training ran: both
gaps are printed and recorded in merged.json. Measured on SmolLM2-135M (a 4-step adapter, 5
records, 2,910 positions, float32): merged into the original weights, max |logit diff| 22.3
and top-1 agreement 76.8% against the nf4 base + adapter (the same gap as the bases' own:
22.2, 75.7%), answer-token loss 0.715; merged into the dequantised weights, 8e-5 and 100%,
loss 0.782 (= the nf4 base + adapter's). So `dequantized` reproduces training exactly and
`original` gives the lower loss by removing the quantisation error; a 4-bit merge (dequantise,
add, quantise again) would round most of the update away and need bitsandbytes to serve.
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
    CONFIG_FILE,
    SUMMARY_FILE,
    FinetuneError,
    base_model_path,
    quant_config,
    read_chat_file,
    record_tokens,
)
from elmtex.io import read_json, write_json
from elmtex.local_models import sha256_file
from elmtex.runs import finetune_paths


def logits_of(model, inputs: list) -> list:
    """float32 logits of a model on each tokenised input (on the model's device, back on CPU)."""
    import torch

    device = next(model.parameters()).device
    with torch.no_grad():
        return [model(input_ids=ids.to(device)).logits.float().cpu() for ids in inputs]


def compare_logits(a: list, b: list) -> dict[str, float]:
    """Largest |difference|, largest |logit| and how often the top token agrees."""
    diff = max(float((x - y).abs().max()) for x, y in zip(a, b, strict=True))
    scale = max(float(x.abs().max()) for x in a)
    same = sum(int((x.argmax(-1) == y.argmax(-1)).sum()) for x, y in zip(a, b, strict=True))
    n = sum(x.shape[1] for x in a)
    return {"max_abs_diff": diff, "max_abs_logit": scale, "top1_agreement": same / n}


def check_inputs(tokenizer, rows: list[dict], n: int, max_tokens: int) -> list:
    """The last `max_tokens` tokens (mostly the answer, where the adapter matters most) of a
    few chat examples, as tensors: cheap enough to run three times on a CPU."""
    import torch

    out = []
    for row in rows[:n]:
        ids, _ = record_tokens(tokenizer, row)
        out.append(torch.tensor([ids[-max_tokens:]]))
    return out


def load_nf4(path: str, dtype):
    """The base as QLoRA training loaded it (nf4, double quantisation), on the CPU."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        path,
        dtype=dtype,
        quantization_config=quant_config(str(dtype).removeprefix("torch.")),
        device_map={"": "cpu"},
    ).eval()


def dequantize_into(model, path: str, dtype) -> int:
    """Overwrite every weight that QLoRA training had in nf4 with its dequantised values (what
    training computed with); returns how many layers. One layer at a time: peak memory is the
    full-precision model plus the nf4 one."""
    import bitsandbytes.functional as bnbf
    from bitsandbytes.nn import Linear4bit

    modules, n = dict(model.named_modules()), 0
    for name, mod in load_nf4(path, dtype).named_modules():
        if isinstance(mod, Linear4bit):
            w = bnbf.dequantize_4bit(mod.weight.data, mod.weight.quant_state)
            modules[name].weight.data.copy_(w.to(modules[name].weight.dtype))
            n += 1
    return n


parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument("--adapter", type=Path, help="adapter folder (default: models/<name>-lora)")
parser.add_argument("--out", type=Path, help="merged model folder (default: models/<name>)")
parser.add_argument(
    "--check-tokens",
    type=int,
    default=256,
    help="tokens per example in the logit check (the last ones of each)",
)
parser.add_argument(
    "--overwrite",
    action="store_true",
    help="merge again even where the merged model is already this adapter's",
)
parser.add_argument(
    "--merge-dtype",
    default="float32",
    help="dtype the merge and its check run in (bfloat16 halves the memory of "
    "an 8B merge, at the price of a check only as tight as bf16)",
)
args = parser.parse_args()
cfg = config_from_args(args)
ft = cfg["finetune"]
paths = finetune_paths(cfg)
adapter_dir = (args.adapter or paths.adapter_dir).resolve()
out_dir = (args.out or paths.merged_dir).resolve()
if not (adapter_dir / "adapter_config.json").exists():
    raise FinetuneError(
        f"{adapter_dir} holds no adapter (adapter_config.json). Run finetune.py "
        "first, or pass --adapter with a checkpoint folder."
    )
summary = read_json(adapter_dir / SUMMARY_FILE) if (adapter_dir / SUMMARY_FILE).exists() else {}
if not summary:
    print(f"note: {adapter_dir} has no {SUMMARY_FILE} (a checkpoint, or an unfinished run)")
# The method trained: from the run's summary, or for a checkpoint from its run's settings.
settings = next(
    (
        read_json(d / CONFIG_FILE)
        for d in (adapter_dir, adapter_dir.parent)
        if (d / CONFIG_FILE).exists()
    ),
    {},
)
mode = summary.get("mode") or settings.get("training", {}).get("mode", "lora")
merge_into = ft["qlora_merge_into"] if mode == "qlora" else "original"
if merge_into not in ("original", "dequantized"):
    raise FinetuneError(
        f"finetune.qlora_merge_into must be original or dequantized, got {merge_into!r}"
    )
base_path = base_model_path(cfg)
adapter_sha256 = sha256_file(adapter_dir / "adapter_model.safetensors")
made = {
    "base_model": base_path,
    "adapter_sha256": adapter_sha256,
    "dtype": ft["merge_dtype"],
    "merge_dtype": args.merge_dtype,
    "mode": mode,
    "merged_into": merge_into,
}  # what decides the merged weights
done = out_dir / "merged.json"
if done.exists() and not args.overwrite:
    old = read_json(done)
    if {k: old.get(k) for k in made} == made:
        print(
            f"{out_dir} is already this adapter merged into {base_path}: nothing to do "
            "(--overwrite merges again)."
        )
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
    rows = [
        {
            "id": "check",
            "prompt": [
                {
                    "role": "user",
                    "content": "Summarise: 58-year-old "
                    "man with type 2 diabetes, admitted for chest pain.",
                }
            ],
            "completion": [{"role": "assistant", "content": '{"diagnosis": "N/A"}'}],
        }
    ]
inputs = check_inputs(tokenizer, rows, ft["merge_check_records"], args.check_tokens)

start = time.monotonic()
print(
    f"merging {adapter_dir} ({mode}) into {base_path} ({merge_into} weights, "
    f"{args.merge_dtype}; saved as {ft['merge_dtype']})"
)
trained = None
if mode == "qlora":  # what training saw: the nf4 base + adapter
    trained = logits_of(
        PeftModel.from_pretrained(load_nf4(base_path, work_dtype), str(adapter_dir)).eval(), inputs
    )
base = AutoModelForCausalLM.from_pretrained(base_path, dtype=work_dtype).eval()
if merge_into == "dequantized":
    print(
        f"  {dequantize_into(base, base_path, work_dtype)} layers set to their dequantised "
        "nf4 weights"
    )
model = PeftModel.from_pretrained(base, str(adapter_dir)).eval()
unmerged = logits_of(model, inputs)
merged = model.merge_and_unload()  # W <- W + (alpha/r) * B @ A, in place; the LoRA layers go
after_merge = compare_logits(unmerged, logits_of(merged, inputs))
print(
    f"merged vs base + adapter: max |logit diff| {after_merge['max_abs_diff']:.4g} "
    f"(largest |logit| {after_merge['max_abs_logit']:.3g}; top-1 token agrees at "
    f"{after_merge['top1_agreement']:.1%} of {sum(x.shape[1] for x in unmerged)} positions)"
)

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
    print(
        f"saved ({ft['merge_dtype']}) vs merged ({args.merge_dtype}): max |logit diff| "
        f"{after_save['max_abs_diff']:.4g}, top-1 agreement {after_save['top1_agreement']:.1%}"
    )
    if AutoTokenizer.from_pretrained(tmp).chat_template != tokenizer.chat_template:
        raise FinetuneError("the chat template was lost when saving the tokenizer")
    info = {
        **made,
        "adapter": str(adapter_dir),
        "training": summary,
        "check_inputs": len(inputs),
        "check_tokens": args.check_tokens,
        "merged_vs_base_plus_adapter": after_merge,
        "saved_vs_merged": after_save,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - start, 1),
    }
    if trained is not None:
        # The gap to what training ran: the base's quantisation error for `original`, float
        # rounding for `dequantized`.
        vs_nf4 = compare_logits(trained, merged_logits)
        info["merged_vs_nf4_base_plus_adapter"] = vs_nf4
        print(
            f"merged ({merge_into} weights) vs nf4 base + adapter (what training ran): max "
            f"|logit diff| {vs_nf4['max_abs_diff']:.4g}, top-1 agreement "
            f"{vs_nf4['top1_agreement']:.1%}"
        )
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
print(
    f"merged model: {out_dir} ({time.monotonic() - start:.0f} s). Use it with "
    f"--set model.name_or_path={out_dir}"
)
