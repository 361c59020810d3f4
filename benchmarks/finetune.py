"""Benchmark: fine-tuning speed and memory per mode (LoRA, QLoRA, DoRA; padded or padding-free
batches; gradient checkpointing off or on), on the same demo records in the same order for the
same steps, each mode in a fresh process. Prints training tokens/s (real tokens only: pads are
not counted), peak RSS, and where the peak is reached: a sampler thread reads the process's RSS
every few milliseconds and charges it to the phase the training step is in.

    python benchmarks/finetune.py                                  # SmolLM2-135M, CPU
    python benchmarks/finetune.py --modes lora,lora_gc,qlora,qlora_gc --steps 1
    python benchmarks/finetune.py --model qwen2.5-coder-0.5b-instruct --steps 3
    python benchmarks/finetune.py --trl-head                       # TRL's own loss head (17 GB)
    python benchmarks/finetune.py --gpu                            # GPU: QLoRA nf4 vs bf16 LoRA

Modes (CPU; all but `padded` padding-free with `sdpa_varlen`, elmtex/finetune.py):
  padded             TRL's collator pads each batch to its longest record; attention `sdpa`.
  lora, lora_gc      LoRA, gradient checkpointing off / on.
  qlora, qlora_gc    QLoRA: the base in nf4 (bitsandbytes, double quantisation).
  dora, dora_gc      DoRA (peft's use_dora): LoRA plus a learned magnitude per output.
  padding_free_sdpa  the padding-free row with transformers' stock `sdpa`, which builds a dense
                     block-diagonal mask over the whole row: quadratic in the row's length
                     (several GB at batch 4); for comparison, not in the default set.
Phases of a step: forward through the decoder layers; the loss head (the LM head projection,
log-softmax and TRL's entropy / token-accuracy statistics); its backward; the backward through
the decoder layers (with checkpointing, their forward is recomputed there); the optimizer step.

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
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from elmtex import ROOT
from elmtex.config import load_config
from elmtex.hardware import resolve_dtype
from elmtex.provenance import benchmark_header

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", default="smollm2-135m-instruct")
parser.add_argument("--batch-size", type=int, default=4)
parser.add_argument(
    "--steps", type=int, default=3, help="timed steps, after one warm-up step (0: memory only)"
)
parser.add_argument("--modes", default="padded,lora,lora_gc,qlora,qlora_gc")
parser.add_argument("--r", type=int, default=8, help="LoRA rank (all linear layers)")
parser.add_argument("--dropout", type=float, default=0.05, help="LoRA dropout (the study's)")
parser.add_argument("--dtype", default="auto", help="base model dtype (auto: the hardware rule)")
parser.add_argument(
    "--trl-head",
    action="store_true",
    help="TRL's fused loss head as it comes (tiles of 4,096 tokens x 32,768 "
    "vocabulary entries), instead of finetune.loss_head_tile",
)
parser.add_argument(
    "--malloc-threshold",
    type=int,
    default=None,
    help="glibc mmap threshold in bytes (default: finetune.malloc_mmap_threshold; "
    "0: glibc's own, which rises and keeps freed blocks)",
)
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
# mode -> (method, padding_free, attention, gradient checkpointing)
CPU_MODES = {
    "padded": ("lora", False, "sdpa", False),
    "lora": ("lora", True, "sdpa_varlen", False),
    "lora_gc": ("lora", True, "sdpa_varlen", True),
    "qlora": ("qlora", True, "sdpa_varlen", False),
    "qlora_gc": ("qlora", True, "sdpa_varlen", True),
    "dora": ("dora", True, "sdpa_varlen", False),
    "dora_gc": ("dora", True, "sdpa_varlen", True),
    "padding_free_sdpa": ("lora", True, "sdpa", False),
}
PHASES = (
    "forward: decoder layers",
    "forward: loss head",
    "backward: loss head",
    "backward: decoder layers",
    "optimizer step",
)
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


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PhaseMeter:
    """Peak RSS per phase: a thread samples RSS every `every` s; `phase` is what is running."""

    def __init__(self, every: float = 0.002):
        self.phase, self.peak, self.every = "load", {}, every
        self.on = True
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while self.on:
            v = rss_mb()
            if v > self.peak.get(self.phase, 0.0):
                self.peak[self.phase] = v
            time.sleep(self.every)

    def set(self, phase: str):
        v = rss_mb()  # the last sample of the phase that ends
        if v > self.peak.get(self.phase, 0.0):
            self.peak[self.phase] = v
        self.phase = phase


SAVED_KINDS = (
    "lora_dropout",
    "lora_A",
    "lora_magnitude_vector",
    "mlp",
    "self_attn",
    "input_layernorm",
    "post_attention_layernorm",
)


class SavedTally:
    """Bytes autograd saves for the backward pass in one forward, by the kind of module that
    saved them (each storage counted once, for the innermost module running when it is first
    saved). With gradient checkpointing, only what is saved outside the checkpointed layers."""

    def __init__(self, model):
        self.stack, self.seen, self.bytes = [], set(), {}
        self.handles = []
        for name, mod in model.named_modules():
            self.handles.append(
                mod.register_forward_pre_hook(lambda m, a, n=name: self.stack.append(n))
            )
            self.handles.append(mod.register_forward_hook(lambda m, a, o: self._pop()))

    def _pop(self):
        self.stack.pop()  # a forward hook that returns None keeps the module's output

    def pack(self, t):
        key = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        if key not in self.seen:
            self.seen.add(key)
            parts = (self.stack[-1] if self.stack else "").split(".")
            kind = next((k for k in SAVED_KINDS if k in parts), "other")
            self.bytes[kind] = self.bytes.get(kind, 0) + key[1]
        return t

    def close(self) -> dict:
        for h in self.handles:
            h.remove()
        return {k: v / 2**20 for k, v in self.bytes.items()}


def ft_settings(method: str, padding_free: bool, attn: str, gc: bool) -> dict:
    ft = load_config(overrides=[f"finetune.method={method}"])["finetune"]
    ft["attn_implementation"] = attn
    ft["sft"].update(
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=1,
        max_steps=args.steps + 1,
        padding_free=padding_free,
        save_steps=10_000,
        eval_strategy="no",
        logging_steps=1,
        warmup_steps=0.0,
        activation_checkpointing=gc,
        report_to=[],
    )
    ft["lora"].update(r=args.r, alpha=2 * args.r, dropout=args.dropout, top_layers=None)
    if args.trl_head:
        ft["loss_head_tile"] = None
    return ft


def cpu_rows(tokenizer) -> tuple[list, list]:
    """Real demo train records with the naive prompt, in a fixed mixed order, pre-flight checked."""
    from elmtex.finetune import chat_example, preflight
    from elmtex.io import load_split
    from elmtex.prompts import PromptTemplate
    from elmtex.task import load_task

    task = load_task("configs/tasks/elmtex.yaml")
    tpl = PromptTemplate(task.prompt_path("naive"))
    n = args.batch_size * (args.steps + 1)
    recs = load_split(ROOT / "data/demo", ["en", "de"], "train", task, n)
    random.Random(1234).shuffle(recs)
    rows, examples, _ = preflight(
        [chat_example(task, tpl, r) for r in recs[:n]], tokenizer, None, "drop"
    )
    return rows, examples


def gpu_dataset():
    """Random token records of --seq-len tokens, the first 75% masked like a prompt."""
    import torch
    from datasets import Dataset

    from elmtex.finetune import IGNORE

    g = torch.Generator().manual_seed(1234)
    ids, labels = [], []
    for _ in range(args.batch_size * (args.steps + 1)):
        x = torch.randint(10, 32000, (args.seq_len,), generator=g).tolist()
        k = int(0.75 * len(x))
        ids.append(x)
        labels.append([IGNORE] * k + x[k:])
    return Dataset.from_dict({"input_ids": ids, "labels": labels}), [len(x) for x in ids]


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
        adapters_to_dtype,
        cap_malloc_retention,
        cut_and_check,
        load_base_for_training,
        lora_config,
        make_trainer_class,
        pick_attention,
        sft_config,
        to_dataset,
    )

    if args.malloc_threshold is None:
        args.malloc_threshold = load_config()["finetune"]["malloc_mmap_threshold"] or 0
    cap_malloc_retention(args.malloc_threshold)
    meter = PhaseMeter()
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = mode in GPU_MODES
    tmp = Path(tempfile.mkdtemp(prefix="bench-ft-"))
    if cuda:
        tokenizer = random_llama(tmp / "model")
        path, dtype = str(tmp / "model"), "bfloat16"
        data, lengths = gpu_dataset()
        method = "qlora" if mode == "qlora_nf4" else "lora"
        ft = ft_settings(method, padding_free=False, attn="sdpa", gc=False)
    else:
        from elmtex.local_models import resolve_model_path

        path, dtype = resolve_model_path(args.model), resolve_dtype(args.dtype, "cpu")
        tokenizer = AutoTokenizer.from_pretrained(path)
        rows, examples = cpu_rows(tokenizer)
        data, lengths = to_dataset(rows), [len(e.input_ids) for e in examples]
        method, padding_free, attn, gc = CPU_MODES[mode]
        ft = ft_settings(method, padding_free, attn, gc)
    attn = pick_attention(ft, cuda)
    config = sft_config(ft, tmp / "out", dtype == "bfloat16", cuda, False)
    config.train_sampling_strategy = "sequential"  # every mode sees the same batches
    model = load_base_for_training(path, method, dtype, attn, config.activation_checkpointing)
    model = get_peft_model(model, lora_config(ft, model))
    meter.set("model loaded")
    base_rss = rss_mb()

    times: list[float] = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, a, state, control, **kw):
            if cuda:
                torch.cuda.synchronize()
            self.t0 = time.perf_counter()

        def on_pre_optimizer_step(self, a, state, control, **kw):
            meter.set("optimizer step")

        def on_step_end(self, a, state, control, **kw):
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - self.t0)
            meter.set("between steps")

    Trainer = make_trainer_class(ft["loss_head_tile"])

    saved: dict = {}

    class PhasedTrainer(Trainer):
        def compute_loss(self, model, *a, **kw):
            if saved or cuda:
                out = super().compute_loss(model, *a, **kw)
            else:  # the first forward: what autograd keeps for the backward pass, and where
                tally = SavedTally(model)
                with torch.autograd.graph.saved_tensors_hooks(tally.pack, lambda t: t):
                    out = super().compute_loss(model, *a, **kw)
                saved.update(tally.close())
            meter.set("backward: loss head")  # backward starts at the loss
            return out

    trainer = PhasedTrainer(
        model=model,
        args=config,
        train_dataset=data,
        processing_class=tokenizer,
        callbacks=[StepTimer()],
    )
    if not cuda:
        trainer.train_dataset = cut_and_check(trainer.train_dataset, examples, None, "train")
    if method == "qlora" and dtype != "bfloat16":
        adapters_to_dtype(model, "float32")
    backbone = model.get_base_model().model

    def layers_done(module, inputs, output):
        meter.set("forward: loss head")
        hidden = output.last_hidden_state
        if hidden.requires_grad:
            hidden.register_hook(lambda g: meter.set("backward: decoder layers"))

    backbone.register_forward_pre_hook(lambda *a: meter.set("forward: decoder layers"))
    backbone.register_forward_hook(layers_done)
    meter.set("trainer ready")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    meter.on = False
    b = args.batch_size
    batches = [lengths[i : i + b] for i in range(0, len(lengths), b)][1:]  # the timed ones
    real = sum(sum(batch) for batch in batches)
    padded = sum(b * max(batch) for batch in batches)
    secs = sum(times[1:]) or float("nan")  # --steps 0: memory only
    row = {
        "mode": mode,
        "method": method,
        "attention": attn,
        "dtype": dtype,
        "gradient_checkpointing": bool(config.activation_checkpointing),
        "steps": len(times) - 1,
        "real_tokens": real,
        "padded_tokens": padded if not ft["sft"]["padding_free"] else real,
        "seconds": secs,
        "tok_s": real / secs,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "base_rss_mb": base_rss,
        "phases": meter.peak,
        "saved_mb": saved,
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
        "--dtype",
        args.dtype,
        "--arch",
        args.arch,
        "--seq-len",
        str(args.seq_len),
    ]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.trl_head:
        cmd += ["--trl-head"]
    if args.malloc_threshold is not None:
        cmd += ["--malloc-threshold", str(args.malloc_threshold)]
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
dtype = rows[0]["dtype"] if rows else "?"
head = "TRL's own loss head" if args.trl_head else "loss head in small tiles"
malloc = (
    "glibc's own malloc threshold"
    if args.malloc_threshold == 0
    else f"malloc threshold {args.malloc_threshold or 'finetune.malloc_mmap_threshold'}"
)
print(
    f"\nmodel {what} ({dtype}), r={args.r} dropout {args.dropout} on all linear layers, "
    f"batch {args.batch_size}, {args.steps} timed steps after 1 warm-up, {where}, {head}, "
    f"{malloc}\n"
)
base = rows[0]["tok_s"] if rows else 1.0
gpu_col = " peak GPU MB |" if args.gpu else ""
print(
    f"| mode | attention | grad. ckpt | real tokens | tokens computed | s/step | real tok/s "
    f"| speed-up | peak RSS MB |{gpu_col}"
)
print("|---|---|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if args.gpu else ""))
for r in rows:
    gpu_val = f" {r['peak_gpu_mb']:.0f} |" if args.gpu else ""
    print(
        f"| {r['mode']} | {r['attention']} | {'on' if r['gradient_checkpointing'] else 'off'} | "
        f"{r['real_tokens']} | {r['padded_tokens']} | "
        f"{r['seconds'] / max(r['steps'], 1):.1f} | {r['tok_s']:.0f} | "
        f"{r['tok_s'] / base:.2f}x | {r['peak_rss_mb']:.0f} |{gpu_val}"
    )
if rows and not args.gpu:
    print(
        "\nPeak RSS (MB) by phase of the training step: the model loaded (weights, adapters, "
        "libraries), then the highest RSS reached while each phase ran"
    )
    print("| mode | model loaded | " + " | ".join(PHASES) + " |")
    print("|---|---:|" + "---:|" * len(PHASES))
    for r in rows:
        cells = " | ".join(f"{r['phases'].get(p, 0):.0f}" for p in PHASES)
        print(f"| {r['mode']} | {r['base_rss_mb']:.0f} | {cells} |")
    kinds = [*SAVED_KINDS, "other"]
    print(
        "\nSaved for the backward pass in the first forward (MB), by the module that saved it "
        "(lora_dropout: the dropped-out copies of each adapter's input; lora_A: the adapters' "
        "inputs; with checkpointing, only the layers' inputs)"
    )
    print("| mode | " + " | ".join(kinds) + " | total |")
    print("|---|" + "---:|" * (len(kinds) + 1))
    for r in rows:
        sv = r["saved_mb"]
        print(
            f"| {r['mode']} | "
            + " | ".join(f"{sv.get(k, 0):.0f}" for k in kinds)
            + f" | {sum(sv.values()):.0f} |"
        )
