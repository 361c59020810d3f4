"""Benchmark: LoRA training throughput with batches padded to their longest record versus
padding-free batches (the records of a batch back to back in one row, no pad tokens), on the
same demo records in the same order for the same steps. Prints training tokens/s (real tokens
only: pads are not counted) and peak RSS. Each configuration runs in a fresh process.

    python benchmarks/finetune.py                                  # SmolLM2-135M, CPU
    python benchmarks/finetune.py --model qwen2.5-coder-0.5b-instruct --steps 3
    python benchmarks/finetune.py --modes padded,padding_free,padding_free_sdpa
    python benchmarks/finetune.py --gpu                            # GPU: QLoRA nf4 vs bf16 LoRA

Modes (CPU):
  padded             TRL's collator pads each batch to its longest record; attention `sdpa`
                     with the padding mask.
  padding_free       one row per batch, position ids restarting per record; attention
                     `sdpa_varlen` (elmtex/finetune.py: causal SDPA per record).
  padding_free_sdpa  the same row with transformers' stock `sdpa`, which builds a dense
                     block-diagonal mask over the whole row: quadratic in the row's length
                     (several GB at batch 4); shown for comparison, not in the default set.

--gpu: a Llama-architecture model initialised at random from a config (no download), LoRA on
all linear layers, trained with the same trainer: 4-bit nf4 base (QLoRA) against a bf16 base;
tokens/s and peak GPU memory (torch.cuda.max_memory_allocated).
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from elmtex import ROOT
from elmtex.config import load_config
from elmtex.provenance import benchmark_header

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", default="smollm2-135m-instruct")
parser.add_argument("--batch-size", type=int, default=4)
parser.add_argument("--steps", type=int, default=3, help="timed steps, after one warm-up step")
parser.add_argument("--modes", default="padded,padding_free")
parser.add_argument("--r", type=int, default=8, help="LoRA rank (all linear layers)")
parser.add_argument("--dropout", type=float, default=0.05, help="LoRA dropout (the study's)")
parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
parser.add_argument("--gpu", action="store_true", help="QLoRA vs bf16 LoRA on a CUDA GPU")
parser.add_argument(
    "--arch",
    default="llama-1b",
    choices=["llama-1b", "llama-8b"],
    help="--gpu: size of the random-init Llama (Llama 3.2 1B or 3.1 8B shape)",
)
parser.add_argument("--seq-len", type=int, default=1024, help="--gpu: tokens per record")
parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration
args = parser.parse_args()

GPU_MODES = ("lora_bf16", "qlora_nf4")
ARCH = {  # Llama 3.2 1B and Llama 3.1 8B shapes
    "llama-1b": dict(
        hidden_size=2048,
        intermediate_size=8192,
        num_hidden_layers=16,
        num_attention_heads=32,
        num_key_value_heads=8,
    ),
    "llama-8b": dict(
        hidden_size=4096,
        intermediate_size=14336,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=8,
    ),
}


def ft_settings(padding_free: bool, attn: str) -> dict:
    ft = load_config()["finetune"]
    ft.update(
        batch_size=args.batch_size,
        gradient_accumulation_steps=1,
        max_steps=args.steps + 1,
        padding_free=padding_free,
        attn_implementation=attn,
        save_steps=10_000,
        eval_steps=0,
        logging_steps=1,
        warmup=0.0,
        bf16=True,
        gradient_checkpointing=False,
    )
    ft["lora"].update(r=args.r, alpha=2 * args.r, dropout=args.dropout, top_layers=None)
    return ft


def cpu_examples(tokenizer) -> list:
    """Real demo train records with the naive prompt, in a fixed mixed order."""
    from elmtex.finetune import chat_example, tokenize_examples
    from elmtex.io import load_split
    from elmtex.prompts import PromptTemplate
    from elmtex.task import load_task

    task = load_task("configs/tasks/elmtex.yaml")
    tpl = PromptTemplate(task.prompt_path("naive"))
    n = args.batch_size * (args.steps + 1)
    recs = load_split(ROOT / "data/demo", ["en", "de"], "train", task, n)
    random.Random(1234).shuffle(recs)
    return tokenize_examples([chat_example(task, tpl, r) for r in recs[:n]], tokenizer)


def gpu_examples() -> list:
    """Random token records of --seq-len tokens, the first 75% masked like a prompt."""
    import torch

    from elmtex.finetune import IGNORE, Example

    g = torch.Generator().manual_seed(1234)
    out = []
    for i in range(args.batch_size * (args.steps + 1)):
        ids = torch.randint(10, 32000, (args.seq_len,), generator=g).tolist()
        k = int(0.75 * len(ids))
        out.append(Example(str(i), ids, [IGNORE] * k + ids[k:], k, len(ids)))
    return out


def random_llama(tmp: Path):
    """A random-init Llama saved once to disk (4-bit loading quantises at from_pretrained),
    and a stand-in tokenizer: the trainer only needs its pad token."""
    import torch
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import AutoModelForCausalLM, LlamaConfig, PreTrainedTokenizerFast

    cfg = LlamaConfig(vocab_size=128256, max_position_embeddings=8192, **ARCH[args.arch])
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).save_pretrained(tmp)
    vocab = {"<pad>": 0, "<unk>": 1}
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel(vocab, unk_token="<unk>")),
        pad_token="<pad>",
        unk_token="<unk>",
        eos_token="<pad>",
    )


def run_one(mode: str) -> dict:
    import torch
    from peft import get_peft_model
    from transformers import AutoTokenizer, TrainerCallback

    from elmtex.finetune import (
        load_base_for_training,
        lora_config,
        make_trainer_class,
        pick_attention,
        sft_config,
        to_dataset,
    )

    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = mode in GPU_MODES
    tmp = Path(tempfile.mkdtemp(prefix="bench-ft-"))
    if cuda:
        tokenizer = random_llama(tmp / "model")
        path, examples = str(tmp / "model"), gpu_examples()
        ft = ft_settings(padding_free=False, attn="sdpa")
        train_mode = "qlora" if mode == "qlora_nf4" else "lora"
    else:
        from elmtex.local_models import resolve_model_path

        path = resolve_model_path(args.model)
        tokenizer = AutoTokenizer.from_pretrained(path)
        examples = cpu_examples(tokenizer)
        attn = {"padded": "sdpa", "padding_free": "sdpa_varlen", "padding_free_sdpa": "sdpa"}[mode]
        ft = ft_settings(padding_free=mode != "padded", attn=attn)
        train_mode = "lora"
    attn = pick_attention(ft, cuda)
    model = load_base_for_training(path, train_mode, "bfloat16", attn, False)
    model = get_peft_model(model, lora_config(ft, model))

    times: list[float] = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, a, state, control, **kw):
            if cuda:
                torch.cuda.synchronize()
            self.t0 = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - self.t0)

    config = sft_config(ft, tmp / "out", True, cuda, False)
    config.train_sampling_strategy = "sequential"  # every mode sees the same batches
    config.report_to = []
    trainer = make_trainer_class()(
        model=model,
        args=config,
        train_dataset=to_dataset(examples),
        processing_class=tokenizer,
        callbacks=[StepTimer()],
    )
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    b = args.batch_size
    batches = [examples[i : i + b] for i in range(0, len(examples), b)][1:]  # the timed ones
    real = sum(len(e.input_ids) for batch in batches for e in batch)
    padded = sum(b * max(len(e.input_ids) for e in batch) for batch in batches)
    secs = sum(times[1:])
    row = {
        "mode": mode,
        "attention": attn,
        "steps": len(times) - 1,
        "real_tokens": real,
        "padded_tokens": padded if mode == "padded" else real,
        "seconds": secs,
        "tok_s": real / secs,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if cuda:
        row["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
        row["gpu"] = torch.cuda.get_device_name()
    return row


if args.one:
    print("RESULT " + json.dumps(run_one(args.one)))
    sys.exit(0)

modes = list(GPU_MODES) if args.gpu else args.modes.split(",")
print(benchmark_header())
rows = []
for mode in modes:
    cmd = [
        sys.executable,
        __file__,
        "--one",
        mode,
        "--model",
        args.model,
        "--batch-size",
        str(args.batch_size),
        "--steps",
        str(args.steps),
        "--r",
        str(args.r),
        "--dropout",
        str(args.dropout),
        "--arch",
        args.arch,
        "--seq-len",
        str(args.seq_len),
    ]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    print(f"running {mode} ...", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        print(f"{mode} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
        continue
    rows.append(json.loads(line[len("RESULT ") :]))

import torch  # noqa: E402  (for the header only)

where = rows[0].get("gpu", f"{torch.get_num_threads()} CPU threads") if rows else "?"
what = f"random-init {args.arch}, {args.seq_len}-token records" if args.gpu else args.model
print(
    f"\nmodel {what} (bf16), LoRA r={args.r} dropout {args.dropout} on all linear layers, "
    f"batch {args.batch_size}, "
    f"{args.steps} timed steps after 1 warm-up, {where}\n"
)
base = rows[0]["tok_s"] if rows else 1.0
gpu_col = " peak GPU MB |" if args.gpu else ""
print(
    f"| mode | attention | real tokens | tokens computed | s/step | real tok/s | speed-up "
    f"| peak RSS MB |{gpu_col}"
)
print("|---|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if args.gpu else ""))
for r in rows:
    gpu_val = f" {r['peak_gpu_mb']:.0f} |" if args.gpu else ""
    print(
        f"| {r['mode']} | {r['attention']} | {r['real_tokens']} | {r['padded_tokens']} | "
        f"{r['seconds'] / max(r['steps'], 1):.1f} | {r['tok_s']:.0f} | "
        f"{r['tok_s'] / base:.2f}x | {r['peak_rss_mb']:.0f} |{gpu_val}"
    )
