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

.PHONY: demo test install clean

# torch first: pip takes the CPU wheel from local disk; a bare `torch` dependency would pull CUDA.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,bench,llm]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/alpaca index samples/docs --db $(DB)
	@for q in $(QUESTIONS); do echo; echo "## $$q"; $(BIN)/alpaca ask "$$q" --db $(DB); done

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(DB)
