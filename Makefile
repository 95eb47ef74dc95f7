# One command runs what CI runs: `make test` (lint, types, tests, evals). `make run` serves the app.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run test lint types unit eval bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/coach serve

test: install lint types eval unit

lint:
	$(BIN)/ruff check coach web tests evals benchmarks

types:
	$(BIN)/mypy

unit:
	$(BIN)/pytest

eval:
	$(BIN)/coach eval --check --json evals/out/latest.json
	$(BIN)/coach eval-retrieval --check --json evals/out/retrieval.json

bench: install
	$(BIN)/python -m benchmarks.bench_critique
	$(BIN)/python -m benchmarks.bench_retrieval

clean:
	rm -rf $(VENV) evals/out benchmarks/out .pytest_cache .mypy_cache .ruff_cache
