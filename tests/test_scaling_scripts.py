"""The scaling helpers that need no GPU to check: run_llm.sh's `vllm serve` command line from
a config (DRY_RUN), the accelerate configs as accelerate itself reads them, the SLURM scripts'
syntax, and in-process vLLM's refusal of data parallelism."""

import json
import os
import shlex
import subprocess
import sys

import pytest
from conftest import ROOT

from elmtex.backends import check_vllm_data_parallel
from elmtex.config import ConfigError
from elmtex.hardware import cuda_available, resolve_dtype


def run_llm(*args: str, **env: str) -> subprocess.CompletedProcess:
    """run_llm.sh's command line; `vllm serve` (the GPU box's form) unless env says otherwise."""
    env = {"VLLM": "vllm", **env}
    return subprocess.run(
        ["bash", str(ROOT / "scripts/run_llm.sh"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHON": sys.executable, "DRY_RUN": "1", **env},
    )


def serve_flags(argv: list[str]) -> dict[str, str | bool]:
    """`--flag value` pairs after the model; a flag with no value (--enforce-eager) is True."""
    flags: dict[str, str | bool] = {}
    for i, arg in enumerate(argv):
        if arg.startswith("--"):
            value = argv[i + 1] if i + 1 < len(argv) else ""
            flags[arg] = True if not value or value.startswith("--") else value
    return flags


def test_run_llm_takes_the_parallel_sizes_from_the_config():
    proc = run_llm(
        "--set",
        "backend.vllm.tensor_parallel_size=4",
        "--set",
        "backend.vllm.pipeline_parallel_size=2",
        "--set",
        "backend.vllm.data_parallel_size=3",
        "--set",
        "backend.vllm.distributed_executor_backend=ray",
        "--set",
        "backend.vllm.max_model_len=8192",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--enforce-eager",
    )
    assert proc.returncode == 0, proc.stderr
    argv = shlex.split(proc.stdout)
    assert argv[:3] == ["vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct"]
    flags = serve_flags(argv[3:])
    assert flags["--tensor-parallel-size"] == "4" and flags["--pipeline-parallel-size"] == "2"
    assert flags["--data-parallel-size"] == "3" and flags["--max-model-len"] == "8192"
    assert flags["--distributed-executor-backend"] == "ray"
    assert flags["--served-model-name"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert flags["--host"] == "127.0.0.1" and flags["--port"] == "8000"
    assert argv[-1] == "--enforce-eager"  # extra arguments go to vllm serve, last


def test_run_llm_defaults_and_the_old_environment_variables():
    proc = run_llm("--config", "configs/experiments/gpu_llama31_8b_naive.yaml", TP="2", PORT="8001")
    assert proc.returncode == 0, proc.stderr
    argv = shlex.split(proc.stdout)
    flags = serve_flags(argv[3:])
    assert argv[2] == "meta-llama/Llama-3.1-8B-Instruct"  # the config's model
    assert flags["--tensor-parallel-size"] == "2" and flags["--port"] == "8001"
    assert flags["--pipeline-parallel-size"] == "1" and flags["--data-parallel-size"] == "1"
    assert "--distributed-executor-backend" not in flags  # null: vLLM's own choice
    # structured outputs through llguidance, which honours the schema's whitespace guard
    assert json.loads(flags["--structured-outputs-config"]) == {
        "backend": "guidance",
        "disable_any_whitespace": False,
    }


def test_run_llm_serves_from_a_python_with_vllm_and_the_cpu_settings():
    """The CPU build's form (make vllm): the same server started as a module of VLLM_PYTHON,
    with the config's eager mode and prefix-caching switch; model.dtype auto resolved here."""
    proc = run_llm(
        "--set",
        "backend.vllm.enforce_eager=true",
        "--set",
        "backend.vllm.prefix_caching=false",
        "smollm2-135m-instruct",
        VLLM="",
        VLLM_PYTHON="/opt/venv/bin/python",
    )
    assert proc.returncode == 0, proc.stderr
    argv = shlex.split(proc.stdout)
    assert argv[:4] == [
        "/opt/venv/bin/python",
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
    ]
    assert argv[4] == str(ROOT / "models" / "smollm2-135m-instruct")
    assert "--enforce-eager" in argv and "--no-enable-prefix-caching" in argv
    assert argv[argv.index("--dtype") + 1] == resolve_dtype("auto", "auto")


def test_run_llm_eager_mode_auto_follows_the_hardware():
    """enforce_eager auto: eager on a CPU (no compile warm-up), compiled on CUDA; true and false
    as written, whatever the hardware."""
    procs = [
        run_llm("--set", f"backend.vllm.enforce_eager={v}", "meta-llama/Llama-3.1-8B-Instruct")
        for v in ("auto", "false", "true")
    ]
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    auto, off, on = (shlex.split(p.stdout) for p in procs)
    assert ("--enforce-eager" in auto) == (not cuda_available())
    assert "--enforce-eager" not in off and "--enforce-eager" in on
    bad = run_llm("--set", "backend.vllm.enforce_eager=sometimes")
    assert bad.returncode == 1 and "wants true, false or auto" in bad.stderr


def test_run_llm_config_error_is_one_line():
    proc = run_llm("--set", "backend.vllm.tensor_parallel=2")
    assert proc.returncode == 1 and "Unknown config key" in proc.stderr
    assert "Traceback" not in proc.stderr and "vllm serve" not in proc.stdout


def test_in_process_vllm_refuses_data_parallel_with_the_way_out():
    check_vllm_data_parallel(1)
    with pytest.raises(ConfigError, match=r"--shard 1/2 .*merge_shards\.py.*run_llm\.sh"):
        check_vllm_data_parallel(2)


@pytest.mark.parametrize(
    "name, kind, extra",
    [
        ("ddp", "MULTI_GPU", {}),
        ("fsdp", "FSDP", {"fsdp_version": 2, "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP"}),
        ("deepspeed_zero2", "DEEPSPEED", {"zero_stage": 2}),
        (
            "deepspeed_zero3",
            "DEEPSPEED",
            {"zero_stage": 3, "zero3_init_flag": True, "zero3_save_16bit_model": True},
        ),
    ],
)
def test_accelerate_configs_load_as_accelerate_reads_them(name, kind, extra):
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file

    cfg = load_config_from_file(str(ROOT / "configs/accelerate" / f"{name}.yaml"))
    assert isinstance(cfg, ClusterConfig) and cfg.distributed_type.value == kind
    assert cfg.mixed_precision == "bf16" and not cfg.use_cpu
    section = cfg.fsdp_config if kind == "FSDP" else cfg.deepspeed_config
    assert extra.items() <= section.items()
    if kind == "DEEPSPEED":  # left to finetune.py's values (DeepSpeed "auto")
        assert "gradient_accumulation_steps" not in section and "gradient_clipping" not in section


@pytest.mark.parametrize(
    "script",
    ["scripts/slurm/finetune.sbatch", "scripts/slurm/cache_array.sbatch", "scripts/run_llm.sh"],
)
def test_shell_scripts_parse(script):
    proc = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
