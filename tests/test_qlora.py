"""QLoRA and DoRA on the CPU with the real SmolLM2 test model and bitsandbytes: QLoRA trains on a
4-bit base (non-zero gradients, falling loss), never anything else, merges, and the merged model
runs the naive stage; DoRA trains and merges; the gradient check stops a run that learns
nothing. Same tiny data and short prompt as tests/test_finetune.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import TEST_MODEL, run_script
from test_finetune import ft_args, train_rows, workspace  # noqa: F401  (its tiny data and prompt)

from elmtex.io import read_jsonl

pytestmark = pytest.mark.slow


def link_test_model(ws: Path, test_model_dir: Path) -> None:
    (ws / "models").mkdir(exist_ok=True)
    link = ws / "models" / TEST_MODEL
    if not link.exists():
        link.symlink_to(test_model_dir, target_is_directory=True)


@pytest.fixture(scope="module")
def qlora(workspace, test_model_dir) -> dict:  # noqa: F811
    """prepare -> QLoRA 4 steps on the CPU -> merge (float32, to check it tightly)."""
    ws = workspace
    link_test_model(ws, test_model_dir)
    args = ft_args(
        ws, "q", "finetune.method=qlora", "finetune.sft.max_steps=4", "finetune.merge_dtype=float32"
    )
    run_script("scripts/prepare_train_chat_data.py", *args)
    trained = run_script("finetune.py", *args)
    merged = run_script("scripts/merge_model_lora.py", *args, "--merge-dtype", "float32")
    return {
        "ws": ws,
        "args": args,
        "out": ws / "models" / "q-lora",
        "merged_dir": ws / "models" / "q",
        "trained": trained,
        "merged": merged,
    }


def test_qlora_trains_a_4bit_base_on_the_cpu(qlora):
    summary = json.loads((qlora["out"] / "train_summary.json").read_text())
    assert summary["mode"] == "qlora" and "mode: QLoRA on the CPU" in qlora["trained"].stdout
    assert summary["quantized_layers"] == 30 * 7  # every linear layer of the 30 blocks in nf4
    # Non-zero gradients from the first step on: lora_B first (B starts at zero, so lora_A's
    # gradient is zero at step 1), then lora_A too.
    first, second = summary["grad_abs_sum"]
    assert first["step"] == 1 and first["lora_B"] > 0
    assert second["step"] == 2 and second["lora_A"] > 0 and second["lora_B"] > 0
    losses = [float(r["loss"]) for r in train_rows(qlora["out"])]
    assert len(losses) == 4 and sum(losses[-2:]) < 0.8 * sum(losses[:2]), losses
    assert summary["adapter_bytes"] > 0 and summary["peak_rss_mb"] > 0


def test_qlora_merges_and_the_merged_model_runs_the_naive_stage(qlora, tmp_path):
    info = json.loads((qlora["merged_dir"] / "merged.json").read_text())
    assert info["mode"] == "qlora" and info["merged_into"] == "original"
    assert info["merged_vs_base_plus_adapter"]["max_abs_diff"] < 1e-3  # the merge is exact
    # ... and differs from what training ran (nf4 base + adapter) by the base's quantisation
    # error, which is measured and recorded
    assert info["merged_vs_nf4_base_plus_adapter"]["max_abs_diff"] > 1e-2
    proc = run_script(
        "cache_results_naive.py",
        "--set",
        f"model.name_or_path={qlora['merged_dir']}",
        "--set",
        "data.langs=[en]",
        "--set",
        "data.limit=1",
        "--set",
        "generation.max_new_tokens=8",
        "--set",
        "backend.batch_size=1",
        "--set",
        f"run.cache_dir={tmp_path}",
    )
    rows = [r for _, r in read_jsonl(tmp_path / "naive-q-demo-test.jsonl")]
    assert "run naive-q-demo-test" in proc.stdout
    assert len(rows) == 1 and rows[0]["completion_tokens"] > 0


def test_qlora_adapter_into_the_dequantised_weights_reproduces_training(qlora, tmp_path):
    run_script(
        "scripts/merge_model_lora.py",
        *qlora["args"],
        "--merge-dtype",
        "float32",
        "--set",
        "finetune.qlora_merge_into=dequantized",
        "--out",
        str(tmp_path / "m"),
    )
    info = json.loads((tmp_path / "m" / "merged.json").read_text())
    assert info["merged_into"] == "dequantized"
    assert info["merged_vs_nf4_base_plus_adapter"]["max_abs_diff"] < 1e-3


def test_a_qlora_run_is_not_resumed_as_another_method(qlora):
    args = [a.replace("finetune.method=qlora", "finetune.method=lora") for a in qlora["args"]]
    proc = run_script(
        "finetune.py", *args, "--set", "finetune.sft.max_steps=6", "--resume", check=False
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "finetune.method" in proc.stderr and "training.mode" in proc.stderr


def test_qlora_without_bitsandbytes_stops_instead_of_training_lora(
    workspace,  # noqa: F811
    tmp_path,
    test_model_dir,
):
    """`method: qlora` never trains anything else: where bitsandbytes cannot be imported (here a
    package of that name that fails to import, first on the path), the stage stops at once."""
    link_test_model(workspace, test_model_dir)
    broken = tmp_path / "shadow" / "bitsandbytes"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("no 4-bit kernels here")\n')
    args = ft_args(workspace, "nobnb", "finetune.method=qlora", "finetune.sft.max_steps=1")
    run_script("scripts/prepare_train_chat_data.py", *args)
    env = {"PYTHONPATH": os.pathsep.join([str(broken.parent), os.environ.get("PYTHONPATH", "")])}
    proc = run_script("finetune.py", *args, check=False, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "no 4-bit kernels here" in proc.stderr and "pip install bitsandbytes" in proc.stderr
    assert not (workspace / "models" / "nobnb-lora").exists()  # nothing trained, nothing written


def test_dora_trains_and_merges(workspace, test_model_dir):  # noqa: F811
    ws = workspace
    link_test_model(ws, test_model_dir)
    args = ft_args(
        ws, "d", "finetune.method=dora", "finetune.sft.max_steps=2", "finetune.merge_dtype=float32"
    )
    run_script("scripts/prepare_train_chat_data.py", *args)
    run_script("finetune.py", *args)
    summary = json.loads((ws / "models" / "d-lora" / "train_summary.json").read_text())
    assert summary["mode"] == "dora" and summary["quantized_layers"] == 0
    assert summary["grad_abs_sum"][0]["lora_magnitude_vector"] > 0  # the magnitudes train
    run_script("scripts/merge_model_lora.py", *args, "--merge-dtype", "float32")
    info = json.loads((ws / "models" / "d" / "merged.json").read_text())
    assert info["mode"] == "dora" and info["merged_vs_base_plus_adapter"]["max_abs_diff"] < 1e-3


def test_gradient_check_stops_a_run_that_learns_nothing(test_model_dir):
    """What the 4-bit trap looks like to the trainer: every adapter gradient zero at the first
    optimizer step. The check stops the run there, with the likely cause."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, TrainerControl, TrainerState

    from elmtex.config import load_config
    from elmtex.finetune import FinetuneError, lora_config, make_gradient_check

    ft = load_config(overrides=["finetune.lora.top_layers=1"])["finetune"]
    model = AutoModelForCausalLM.from_pretrained(test_model_dir)
    model = get_peft_model(model, lora_config(ft, model))
    for p in model.parameters():
        if p.requires_grad:
            p.grad = torch.zeros_like(p)
    record: dict = {}
    check = make_gradient_check(record)
    with pytest.raises(FinetuneError, match="every adapter gradient is zero.*4-bit"):
        check.on_pre_optimizer_step(None, TrainerState(), TrainerControl(), model=model)
    assert record["grad_abs_sum"][0]["lora_B"] == 0.0
    next(p for n, p in model.named_parameters() if "lora_B" in n).grad[0, 0] = 1.0
    check.on_pre_optimizer_step(None, TrainerState(), TrainerControl(), model=model)  # passes
