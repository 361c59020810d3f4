"""Inference backends behind one interface: `generate(conversations, settings)`.

- transformers: in process, batched with left padding (the CPU default);
- vllm: in process on a GPU box, imported only when chosen;
- openai: any OpenAI-compatible server (`vllm serve`, scripts/run_llm.sh), concurrent
  requests with timeouts and retries.

With `generation.constrained` each of them decodes only JSON that fits the task's schema
(elmtex/constrained.py): transformers through llguidance token masks, vllm and openai through
vLLM's structured outputs.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import json
import os
import random
import time
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from elmtex.config import ConfigError
from elmtex.constrained import schema_from_config
from elmtex.hardware import cuda_available, resolve_dtype, resolve_enforce_eager
from elmtex.hardware import describe as hardware_description
from elmtex.local_models import check_hub_id, resolve_model_path

Conversation = list[dict[str, str]]


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = 512
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    seed: int = 1234
    # Set (generation.constrained): decode only JSON that fits this schema, whitespace guard
    # included (elmtex.constrained.task_json_schema).
    json_schema: dict | None = None

    @classmethod
    def from_config(cls, cfg: dict) -> GenerationSettings:
        g = cfg["generation"]
        return cls(
            int(g["max_new_tokens"]),
            float(g["temperature"]),
            float(g["top_p"]),
            int(g["seed"]),
            schema_from_config(cfg),
        )


@dataclass
class Generation:
    text: str
    finish_reason: str  # "stop" | "length" | "error"
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float  # wall time of the call that produced it (a whole batch in process)
    error: str | None = None


class Backend(Protocol):
    name: str
    model_id: str
    dtype: str | None  # what the weights compute in (None: a server's, not known)
    hardware: dict  # elmtex.hardware.describe() of the device it runs on

    def generate(
        self, conversations: list[Conversation], settings: GenerationSettings
    ) -> list[Generation]: ...


def _torch_dtype(name: str, device: str):
    """A torch dtype; "auto" is bf16 only where it is native (elmtex.hardware)."""
    import torch

    return getattr(torch, resolve_dtype(name, device))


class TransformersBackend:
    name = "transformers"

    def __init__(
        self,
        model_path: str,
        dtype: str = "auto",
        device: str = "auto",
        torch_threads: int | None = None,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if torch_threads:
            torch.set_num_threads(int(torch_threads))
        self.model_id = model_path
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        if self.tokenizer.chat_template is None:
            raise ValueError(f"{model_path} has no chat template; use an instruct model.")
        self.tokenizer.padding_side = "left"  # decoder-only batching needs left padding
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(
            model_path, dtype=_torch_dtype(dtype, self.device)
        )
        self.model.to(self.device).eval()
        self.dtype = str(self.model.dtype).removeprefix("torch.")
        self.hardware = hardware_description(self.device)
        gen_cfg = self.model.generation_config
        eos = (
            gen_cfg.eos_token_id
            if gen_cfg.eos_token_id is not None
            else self.tokenizer.eos_token_id
        )
        self.stop_ids = set(eos if isinstance(eos, list) else [eos])
        self._grammars: dict[str, tuple[str, int]] = {}  # schema -> (grammar, closing reserve)
        self._ll_tokenizer: Any = None
        self._token_classes: Any = None

    def schema_processor(self, schema: dict, batch_size: int, max_new_tokens: int) -> Any:
        """A fresh logits processor that holds `batch_size` rows to `schema` and closes their
        answers when `max_new_tokens` runs short (elmtex.constrained)."""
        from elmtex.constrained import (
            SchemaLogitsProcessor,
            TokenClasses,
            closing_reserve,
            llguidance_grammar,
            llguidance_tokenizer,
        )

        if self._ll_tokenizer is None:  # a few seconds; once per backend
            head = self.model.get_output_embeddings()  # its width is the logits' width
            vocab = head.weight.shape[0] if head is not None else len(self.tokenizer)
            self._ll_tokenizer = llguidance_tokenizer(self.tokenizer, vocab, list(self.stop_ids))
            self._token_classes = TokenClasses(self.tokenizer, vocab)
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = (
                llguidance_grammar(schema),
                closing_reserve(schema, self.tokenizer),
            )
        grammar, reserve = self._grammars[key]
        return SchemaLogitsProcessor(
            self._ll_tokenizer,
            grammar,
            batch_size,
            self.stop_ids,
            max_new_tokens,
            reserve,
            self._token_classes,
        )

    def render(self, conversation: Conversation) -> str:
        return self.tokenizer.apply_chat_template(
            conversation, tokenize=False, add_generation_prompt=True
        )

    def count_prompt_tokens(self, conversation: Conversation) -> int:
        return len(self.tokenizer(self.render(conversation), add_special_tokens=False).input_ids)

    def context_length(self) -> int | None:
        """Tokens the model takes (prompt + completion): its position embeddings, or the
        tokenizer's limit where that is smaller (a huge sentinel there means "not set")."""
        cfg = self.model.config
        cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
        return _smallest_real_limit(
            getattr(cfg, "max_position_embeddings", None), self.tokenizer.model_max_length
        )

    def generate(
        self, conversations: list[Conversation], settings: GenerationSettings
    ) -> list[Generation]:
        import torch

        texts = [self.render(c) for c in conversations]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = enc.to(self.device)
        sample = settings.temperature > 0
        kwargs: dict[str, Any] = dict(
            max_new_tokens=settings.max_new_tokens,
            do_sample=sample,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        if sample:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
            torch.manual_seed(settings.seed)
        else:  # silence the model's own sampling defaults when decoding greedily
            kwargs.update(temperature=None, top_p=None, top_k=None)
        t0 = time.perf_counter()  # the constraint's set-up counts towards the latency
        processor = None
        if settings.json_schema is not None:
            from transformers import LogitsProcessorList

            processor = self.schema_processor(
                settings.json_schema, len(texts), settings.max_new_tokens
            )
            kwargs["logits_processor"] = LogitsProcessorList([processor])
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        latency = time.perf_counter() - t0
        prompt_lens = enc["attention_mask"].sum(dim=1).tolist()
        new = out[:, enc["input_ids"].shape[1] :].tolist()
        results = []
        for k, (row, plen) in enumerate(zip(new, prompt_lens, strict=True)):
            stop_at = next((i for i, t in enumerate(row) if t in self.stop_ids), None)
            ids = row if stop_at is None else row[:stop_at]
            finish = "length" if stop_at is None else "stop"
            if finish == "stop" and processor is not None and processor.closed[k]:
                finish = "budget"  # closed early by the token budget (elmtex.constrained)
            results.append(
                Generation(
                    text=self.tokenizer.decode(ids, skip_special_tokens=True),
                    finish_reason=finish,
                    prompt_tokens=int(plen),
                    completion_tokens=len(ids) + (0 if stop_at is None else 1),
                    latency_s=latency,
                )
            )
        return results


class VLLMBackend:
    """In-process vLLM (GPU box). Imported lazily so CPU paths never import vllm."""

    name = "vllm"

    def __init__(
        self,
        model_path: str,
        dtype: str,
        seed: int,
        tensor_parallel_size: int = 1,
        max_model_len: int = 15360,
        gpu_memory_utilization: float = 0.9,
        structured_outputs_config: dict | None = None,
        pipeline_parallel_size: int = 1,
        data_parallel_size: int = 1,
        distributed_executor_backend: str | None = None,
        enforce_eager: bool | str = "auto",
        cpu_kv_cache_gib: int = 4,
        prefix_caching: bool = True,
    ):
        check_vllm_data_parallel(data_parallel_size)  # before the (slow) vLLM import
        # The stage scripts read top to bottom, without a `__main__` guard: vLLM's engine core
        # must then run in this process, as a spawned one would run the script again (vLLM's CPU
        # platform always spawns). Its workers (tensor parallel on a GPU box) still get theirs.
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(int(cpu_kv_cache_gib)))
        if not cuda_available():
            # vLLM 0.32's CPU build saves its AOT-compiled model but cannot load it back
            # ("'function' object has no attribute 'finalize_loading'", vllm-project/vllm#45447),
            # so every engine start compiled again (150-175 s on 2 cores); the older compile
            # cache loads: 72 s for a warm start (docs/results.md, Main job).
            os.environ.setdefault("VLLM_USE_AOT_COMPILE", "0")
        from vllm import LLM

        self.model_id = model_path
        extra = {}
        if structured_outputs_config:  # engine-wide: vLLM reads no per-request whitespace flag
            extra["structured_outputs_config"] = structured_outputs_config
        if distributed_executor_backend:  # "ray" for a model spread over several nodes
            extra["distributed_executor_backend"] = distributed_executor_backend
        dtype = resolve_dtype(dtype, "auto")  # vLLM's own "auto" is the checkpoint's dtype
        self.dtype = dtype
        self.llm = LLM(
            model=model_path,
            dtype=dtype,
            seed=seed,
            tensor_parallel_size=tensor_parallel_size,
            pipeline_parallel_size=pipeline_parallel_size,
            max_model_len=max_model_len,
            enforce_eager=resolve_enforce_eager(enforce_eager),
            enable_prefix_caching=prefix_caching,
            gpu_memory_utilization=gpu_memory_utilization,
            **extra,
        )
        self.hardware = hardware_description("auto")  # after the engine: this may start CUDA
        self.max_model_len = max_model_len

    def count_prompt_tokens(self, conversation: Conversation) -> int:
        tok = self.llm.get_tokenizer()
        text = tok.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        return len(tok(text, add_special_tokens=False).input_ids)

    def context_length(self) -> int | None:
        try:  # what the engine settled on (it may lower the configured value)
            return int(self.llm.llm_engine.model_config.max_model_len)
        except AttributeError:
            return self.max_model_len

    def generate(
        self, conversations: list[Conversation], settings: GenerationSettings
    ) -> list[Generation]:
        from vllm import SamplingParams

        kwargs = vllm_sampling_kwargs(settings)
        if "structured_outputs" in kwargs:
            from vllm.sampling_params import StructuredOutputsParams

            kwargs["structured_outputs"] = StructuredOutputsParams(**kwargs["structured_outputs"])
        params = SamplingParams(**kwargs)
        t0 = time.perf_counter()
        outs = self.llm.chat(conversations, params, use_tqdm=False)
        latency = time.perf_counter() - t0
        return [
            Generation(
                text=o.outputs[0].text,
                finish_reason=o.outputs[0].finish_reason or "stop",
                prompt_tokens=len(o.prompt_token_ids or []),
                completion_tokens=len(o.outputs[0].token_ids),
                latency_s=latency,
            )
            for o in outs
        ]


def check_vllm_data_parallel(data_parallel_size: int) -> None:
    """vLLM 0.33's LLM class refuses data_parallel_size > 1 in one process (it "may hang"): its
    replicas need one process each. Here that is sharding: one caching process per replica."""
    if int(data_parallel_size) > 1:
        raise ConfigError(
            f"backend.vllm.data_parallel_size={data_parallel_size}: in-process vLLM runs one "
            "model replica per process. Run one shard per replica instead (e.g. "
            "CUDA_VISIBLE_DEVICES=0 python cache_results_naive.py --shard 1/2 & "
            "CUDA_VISIBLE_DEVICES=1 python cache_results_naive.py --shard 2/2, then "
            "scripts/merge_shards.py), or serve the replicas with scripts/run_llm.sh "
            "(vllm serve --data-parallel-size) and use backend.name=openai."
        )


class OpenAIBackend:
    """Any server that speaks the OpenAI chat-completions API; with several base URLs (replicas
    of one model, e.g. one `vllm serve` per GPU or node), requests are spread over them."""

    name = "openai"
    RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
    dtype = None  # the server's choice: the OpenAI API does not report it
    hardware = {"device": "server (the OpenAI API does not report its hardware)"}

    def __init__(
        self,
        base_url: str | list[str],
        model: str,
        api_key: str = "EMPTY",
        concurrency: int = 8,
        timeout_s: float = 600.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
    ):
        bases = [base_url] if isinstance(base_url, str) else list(base_url)
        if not bases or not all(isinstance(b, str) and b.strip() for b in bases):
            raise ValueError(
                f"backend.openai.base_url wants a URL or a list of URLs, got {base_url!r}"
            )
        self.urls = [b.rstrip("/") + "/chat/completions" for b in bases]
        self.url = self.urls[0]
        self.model_id = model
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.concurrency = max(1, int(concurrency))
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.session = requests.Session()
        self._next_url = itertools.count()  # next() is atomic under the GIL: thread-safe

    def _one(self, conversation: Conversation, settings: GenerationSettings) -> Generation:
        body = openai_request_body(self.model_id, conversation, settings)
        last_error = ""
        # Round-robin: each request starts at the next server; a retry goes to the one after
        # the server that failed, so one dead replica costs a retry, not the request.
        first = next(self._next_url)
        for attempt in range(self.max_retries + 1):
            url = self.urls[(first + attempt) % len(self.urls)]
            if attempt >= len(self.urls):
                # exponential backoff with jitter, so many clients do not retry in step; with
                # several servers, only once each of them has been tried
                wait = self.backoff_s * 2 ** (attempt - len(self.urls))
                time.sleep(wait * (0.5 + random.random()))
            t0 = time.perf_counter()
            try:
                r = self.session.post(url, json=body, headers=self.headers, timeout=self.timeout_s)
            except (requests.ConnectionError, requests.Timeout) as e:
                last_error = f"{url}: {type(e).__name__}: {e}"
                continue
            if r.status_code in self.RETRY_STATUS:
                last_error = f"{url}: HTTP {r.status_code}: {r.text[:200]}"
                continue
            if r.status_code != 200:
                raise RuntimeError(f"{url} answered HTTP {r.status_code}: {r.text[:500]}")
            data = r.json()
            choice = data["choices"][0]
            usage = data.get("usage") or {}
            return Generation(
                text=choice["message"].get("content") or "",
                finish_reason=choice.get("finish_reason") or "stop",
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=usage.get("completion_tokens"),
                latency_s=time.perf_counter() - t0,
            )
        # Out of retries: recorded as an error generation, so the run goes on and a rerun retries.
        return Generation(
            "",
            "error",
            None,
            None,
            0.0,
            error=f"gave up after {self.max_retries + 1} tries: {last_error}",
        )

    def context_length(self) -> int | None:
        return None  # the server knows it; the OpenAI API does not say

    def generate(
        self, conversations: list[Conversation], settings: GenerationSettings
    ) -> list[Generation]:
        with cf.ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(lambda c: self._one(c, settings), conversations))


def vllm_sampling_kwargs(settings: GenerationSettings) -> dict[str, Any]:
    """Keyword arguments of vLLM's SamplingParams; `structured_outputs` (when constrained) is
    the keyword dict of its StructuredOutputsParams (as in vLLM 0.33; older releases called it
    guided_decoding / guided_json, which are gone)."""
    kwargs: dict[str, Any] = dict(
        temperature=settings.temperature,
        top_p=settings.top_p,
        max_tokens=settings.max_new_tokens,
        seed=settings.seed,
    )
    if settings.json_schema is not None:
        kwargs["structured_outputs"] = {"json": settings.json_schema}
    return kwargs


def vllm_structured_outputs_config(cfg: dict) -> dict | None:
    """vLLM's engine-wide structured-outputs settings for a constrained run, else None.

    The engine is guidance, i.e. llguidance, the engine of the transformers backend: it reads
    the schema's own `x-guidance` whitespace setting (vLLM passes its engine-wide
    `disable_any_whitespace` as a default the schema overrides), so `spaced` and `compact`
    act as on the CPU. vLLM's default engine, xgrammar, would ignore them. `compact` also sets
    `disable_any_whitespace`, vLLM's own switch for it (vLLM 0.33 reads it only from the engine
    config, not per request)."""
    g = cfg["generation"]
    if not g.get("constrained"):
        return None
    return {
        "backend": "guidance",
        "disable_any_whitespace": g.get("json_whitespace", "spaced") == "compact",
    }


def openai_request_body(
    model: str, conversation: Conversation, settings: GenerationSettings
) -> dict[str, Any]:
    """The chat-completions request; when constrained, the schema goes as the standard
    `response_format` of type json_schema, which vLLM's server turns into its structured
    outputs (and which other OpenAI-compatible servers understand too)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": conversation,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "max_tokens": settings.max_new_tokens,
        "seed": settings.seed,
    }
    if settings.json_schema is not None:
        name = slug_name(str(settings.json_schema.get("title") or "answer"))
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": settings.json_schema},
        }
    return body


def slug_name(text: str) -> str:
    """A response-format name as OpenAI wants it: [a-zA-Z0-9_-], at most 64 characters."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in text)[:64]


def token_agreement(tokenizer: Any, texts_a: list[str], texts_b: list[str]) -> dict[str, Any]:
    """How far two engines' answers to the same prompts agree, token by token: how many are
    identical, and the mean share of the longer answer that both share from the start."""
    shares, identical = [], 0
    for a, b in zip(texts_a, texts_b, strict=True):
        ta = tokenizer(a, add_special_tokens=False).input_ids
        tb = tokenizer(b, add_special_tokens=False).input_ids
        pairs = zip(ta, tb, strict=False)
        common = next((i for i, (x, y) in enumerate(pairs) if x != y), min(len(ta), len(tb)))
        identical += ta == tb
        shares.append(common / max(len(ta), len(tb), 1))
    return {
        "answers": len(shares),
        "identical": identical,
        "mean_prefix_share": round(sum(shares) / max(len(shares), 1), 4),
    }


def _smallest_real_limit(*limits: Any) -> int | None:
    real = [int(n) for n in limits if isinstance(n, int) and 0 < n < 10**8]
    return min(real) if real else None


def make_backend(cfg: dict) -> Backend:
    """The backend the config names, with its model loaded (or its server addressed)."""
    name = cfg["backend"]["name"]
    model = cfg["model"]
    if name == "openai":
        o = cfg["backend"]["openai"]
        from elmtex.guards import openai_api_key

        return OpenAIBackend(
            o["base_url"],
            o["model"] or model["name_or_path"],
            openai_api_key(cfg),
            o["concurrency"],
            o["timeout_s"],
            o["max_retries"],
            o["backoff_s"],
        )
    path = resolve_model_path(model["name_or_path"], model["models_dir"])
    if not os.path.isdir(path):
        check_hub_id(path)  # a mistyped name: one line, not the hub client's traceback
    if name == "transformers":
        t = cfg["backend"]["transformers"]
        return TransformersBackend(path, model["dtype"], t["device"], t["torch_threads"])
    if name == "vllm":
        v = cfg["backend"]["vllm"]
        return VLLMBackend(
            path,
            model["dtype"],
            cfg["generation"]["seed"],
            v["tensor_parallel_size"],
            v["max_model_len"],
            v["gpu_memory_utilization"],
            vllm_structured_outputs_config(cfg),
            v["pipeline_parallel_size"],
            v["data_parallel_size"],
            v["distributed_executor_backend"],
            v["enforce_eager"],
            v["cpu_kv_cache_gib"],
            v["prefix_caching"],
        )
    raise ValueError(f"Unknown backend '{name}'; choose transformers, vllm or openai.")
