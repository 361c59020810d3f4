"""finetune.py under `accelerate launch` with configs/accelerate/ddp.yaml: two real processes
(torchrun under accelerate; gloo on this CPU) train one adapter; only the main process writes
the run's files, and --overwrite is safe with several processes."""

import csv
import json
import os
import subprocess

import pytest
from conftest import ROOT, TEST_MODEL, run_script
from test_finetune import ft_args, workspace  # noqa: F401  (its tiny data and short prompt)

pytestmark = pytest.mark.slow


def accelerate_launch(*args: str) -> subprocess.CompletedProcess:
    accelerate = ROOT / ".venv" / "bin" / "accelerate"
    cmd = [
        str(accelerate) if accelerate.exists() else "accelerate",
        "launch",
        "--config_file",
        str(ROOT / "configs/accelerate/ddp.yaml"),
        "--num_processes",
        "2",
        str(ROOT / "finetune.py"),
        *args,
    ]
    return subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false",
        },
    )


def test_ddp_two_processes_train_one_adapter(workspace, test_model_dir):  # noqa: F811
    ws = workspace
    (ws / "models").mkdir(exist_ok=True)
    link = ws / "models" / TEST_MODEL
    if not link.exists():
        link.symlink_to(test_model_dir, target_is_directory=True)
    args = ft_args(
        ws, "ddp", "finetune.sft.max_steps=2", "finetune.sft.per_device_train_batch_size=1"
    )
    run_script("scripts/prepare_train_chat_data.py", *args)
    # An earlier run's output, which --overwrite must clear on the main process only, before
    # the other process looks: had that one looked first, it would refuse the folder ("already
    # holds a training run"). One launch instead of a real first run (about 100 s on 2 cores).
    out = ws / "models" / "ddp-lora"
    (out / "checkpoint-1").mkdir(parents=True)
    (out / "train_summary.json").write_text(json.dumps({"length": {"max_steps": 1}}))
    proc = accelerate_launch(*args, "--overwrite")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert not (out / "checkpoint-1").exists()
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["processes"] == 2 and summary["global_step"] == 2
    assert (out / "adapter_model.safetensors").stat().st_size > 0
    with (out / "train_log.csv").open(newline="") as fh:
        train_rows = [r for r in csv.DictReader(fh) if r["loss"]]
    assert [r["step"] for r in train_rows] == ["1", "2"]  # logged once, by the main process
    # Each step saw one record per process: 2 of the 4 training records per step.
    assert float(train_rows[0]["epoch"]) == 0.5
