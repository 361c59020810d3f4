"""Stage 3: (Q)LoRA supervised fine-tuning with TRL's SFTTrainer on the prepared chat data.

    python scripts/prepare_train_chat_data.py --config configs/experiments/finetune_cpu_demo.yaml
    python finetune.py --config configs/experiments/finetune_cpu_demo.yaml
    python finetune.py --config configs/experiments/finetune_cpu_demo.yaml --resume  # after a stop
    python scripts/merge_model_lora.py --config configs/experiments/finetune_cpu_demo.yaml

finetune.method lora, or qlora (a 4-bit nf4 base, on a CPU or a CUDA GPU; never anything else).
Examples are TRL prompt-completion records; the loss is on the completion only (TRL's
completion mask, checked against a strict pre-flight before training). Writes
models/<name>-lora/: checkpoint-*/ (for --resume), the final adapter and tokenizer,
train_log.csv, tensorboard/ and train_summary.json (last, when training finished).
"""

import argparse
import os
import resource
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local models by default; HF_HUB_OFFLINE=0 uses a hub

from elmtex.config import add_config_args, config_from_args, dump_config
from elmtex.finetune import (
    LOG_FILE,
    SUMMARY_FILE,
    adapters_to_dtype,
    base_model_path,
    cap_malloc_retention,
    check_sft_keys,
    count_4bit_layers,
    cut_and_check,
    decisive_settings,
    length_stats,
    load_base_for_training,
    lora_config,
    make_csv_logger,
    make_gradient_check,
    make_trainer_class,
    pick_attention,
    preflight,
    prepare_output_dir,
    read_chat_file,
    sft_config,
    tensorboard_dir,
    to_dataset,
    training_length,
    training_mode,
)
from elmtex.hardware import describe as hardware_description
from elmtex.io import write_json, write_text
from elmtex.runs import finetune_paths

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument(
    "--resume",
    action="store_true",
    help="continue from the last checkpoint (with none yet, start from the beginning)",
)
parser.add_argument("--overwrite", action="store_true", help="discard this run's earlier output")
args = parser.parse_args()
cfg = config_from_args(args)
ft = cfg["finetune"]
paths = finetune_paths(cfg)
out_dir = paths.adapter_dir
check_sft_keys(ft["sft"])  # finetune.sft goes to trl.SFTConfig: an unknown key fails here

import torch  # after the config: a typo fails fast, without these imports
from accelerate import PartialState
from peft import get_peft_model
from transformers import AutoTokenizer, set_seed

# Under `accelerate launch` (DDP, FSDP, DeepSpeed; configs/accelerate/) this is one of several
# processes: only the main one deletes or writes files of the run; alone, it is the main one.
# (cpu= as the trainer will have it: without it, CPU processes would not see each other.)
state = PartialState(cpu=not torch.cuda.is_available())

if ft["torch_threads"]:
    torch.set_num_threads(int(ft["torch_threads"]))
cap_malloc_retention(ft["malloc_mmap_threshold"])  # freed activations back to the system
cuda = torch.cuda.is_available()
mode, why = training_mode(ft["method"], cuda, cfg["model"]["dtype"])
print(f"mode: {why}")

# Data: TRL's prompt-completion records, pre-flight checked (elmtex/finetune.py: the prompt's
# tokens a prefix of prompt + completion, a non-empty completion mask) and the length policy.
model_path = base_model_path(cfg)
tokenizer = AutoTokenizer.from_pretrained(model_path)
datasets, checked = {}, {}
for split, path in (("train", paths.train_file), ("eval", paths.val_file)):
    rows, examples, report = preflight(
        read_chat_file(path), tokenizer, ft["max_length"], ft["overlong"]
    )
    if split == "train" and not rows:
        raise SystemExit(f"error: no training example fits in max_length={ft['max_length']}")
    trained = sum(e.n_trained for e in examples)
    print(
        f"{split}: {len(rows)} examples ({report['dropped']} dropped, {report['truncated']} "
        f"truncated), tokens {length_stats([len(e.input_ids) for e in examples])}, "
        f"{trained} answer tokens trained on"
    )
    datasets[split], checked[split] = (to_dataset(rows) if rows else None), examples

# Output folder: refuse to mix runs; --resume continues from the last checkpoint.
decisive = decisive_settings(cfg, paths.train_file, mode)
length = training_length(ft)
with state.main_process_first():  # the main process clears (--overwrite) and sets up first
    checkpoint, finished = prepare_output_dir(
        out_dir, decisive, length, args.resume, args.overwrite and state.is_main_process
    )
if finished:
    print(
        f"{out_dir} already holds this run, trained to the end ({SUMMARY_FILE}): nothing to do."
        " Pass --overwrite to train again."
    )
    raise SystemExit(0)
if state.is_main_process:
    write_text(out_dir / "config.yaml", dump_config(cfg))
print(f"output: {out_dir}" + (f" (resuming from {checkpoint.name})" if checkpoint else ""))

# The training arguments before the model: under DeepSpeed ZeRO-3 (zero3_init_flag in
# configs/accelerate/deepspeed_zero3.yaml) they make from_pretrained load the weights sharded.
train_args = sft_config(ft, out_dir, ft["bf16"], cuda, datasets["eval"] is not None)

# Model: loaded fresh and trained before anything else runs it (see load_base_for_training).
set_seed(ft["seed"])  # the adapter's initial weights
attn = pick_attention(ft, cuda)
model = load_base_for_training(
    model_path, mode, cfg["model"]["dtype"], attn, train_args.activation_checkpointing
)
model = get_peft_model(model, lora_config(ft, model))
quantized = count_4bit_layers(model)
trainable, total = model.get_nb_trainable_parameters()
print(
    f"model {model_path}: {total / 1e6:.0f}M parameters, {trainable / 1e6:.2f}M trainable "
    f"(r={ft['lora']['r']}, alpha={ft['lora']['alpha']}); attention {attn}, "
    f"{'padding-free' if train_args.padding_free else 'padded'} batches of "
    f"{train_args.per_device_train_batch_size} x {train_args.gradient_accumulation_steps} "
    "accumulation steps"
)

Trainer = make_trainer_class(ft["loss_head_tile"])
grad_check: dict = {}  # the adapters' gradient sums before the first optimizer steps
tb_dir = tensorboard_dir(out_dir)  # before the trainer: its TensorBoard callback reads it then
trainer = Trainer(
    model=model,
    args=train_args,
    train_dataset=datasets["train"],
    eval_dataset=datasets["eval"],
    processing_class=tokenizer,
    callbacks=[make_csv_logger(out_dir / LOG_FILE), make_gradient_check(grad_check)],
)
if mode == "qlora" and cfg["model"]["dtype"] != "bfloat16":
    adapters_to_dtype(model, "float32")  # SFTTrainer made them bf16: emulated on this hardware
# TRL built the labels from its completion mask; cut what is overlong (`truncate`) and check
# them against the pre-flight, record by record.
trainer.train_dataset = cut_and_check(
    trainer.train_dataset, checked["train"], ft["max_length"], "train"
)
if trainer.eval_dataset is not None:
    trainer.eval_dataset = cut_and_check(
        trainer.eval_dataset, checked["eval"], ft["max_length"], "eval"
    )
print(f"logs: {out_dir / LOG_FILE}, tensorboard --logdir {tb_dir}")

start = time.monotonic()
result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
eval_metrics = trainer.evaluate() if datasets["eval"] is not None else {}
trainer.save_model(str(out_dir))  # the final adapter (adapter_model.safetensors) + tokenizer
steps_run = trainer.state.global_step - (int(checkpoint.name.split("-")[-1]) if checkpoint else 0)
state.wait_for_everyone()  # every process done with the adapter before it is marked complete
summary = {
    "name": paths.name,
    "base_model": model_path,
    "mode": mode,
    "attention": attn,
    "global_step": trainer.state.global_step,
    "train_loss": result.training_loss,
    "eval_loss": eval_metrics.get("eval_loss"),
    "train_seconds": round(time.monotonic() - start, 1),
    "train_examples": len(datasets["train"]),
    "trainable_parameters": trainable,
    "length": length,
    "processes": state.num_processes,
    "resumed_from": str(checkpoint) if checkpoint else None,
    "dtype": cfg["model"]["dtype"],
    "bf16_autocast": ft["bf16"],
    "quantized_layers": quantized,
    **grad_check,
    # This invocation's costs (a resumed run: since the checkpoint), for comparing methods.
    "seconds_per_step": round(result.metrics["train_runtime"] / max(steps_run, 1), 2),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    "adapter_bytes": (out_dir / "adapter_model.safetensors").stat().st_size,
    "hardware": hardware_description("cuda" if cuda else "cpu"),
}
if state.is_main_process:
    write_json(out_dir / SUMMARY_FILE, summary)  # last: marks the adapter complete
print(f"done: {summary}")
print("next: python scripts/merge_model_lora.py, with the same --config and --set")
