# The same targets serve people, CI and hooks. Each bootstraps the project's own virtualenv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 2024
JOBS   ?= 10

.DEFAULT_GOAL := help
.PHONY: help demo test lint typecheck unit bench bench-smoke serve clean

help:
	@echo "make demo       run the showcase trip offline (no API key needed)"
	@echo "make test       lint, type-check and run the whole test suite"
	@echo "make bench      run the benchmarks and write BENCHMARKS.md"
	@echo "make serve      start 'langgraph dev' offline on port $(PORT) (for Studio)"

$(BIN)/.ready-run: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(BIN)/.ready-dev: $(BIN)/.ready-run
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(BIN)/.ready-run
	$(BIN)/orchestrator demo

lint: $(BIN)/.ready-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.ready-dev
	$(BIN)/mypy

unit: $(BIN)/.ready-dev
	$(BIN)/pytest -q tests/unit

test: lint typecheck
	$(BIN)/pytest -q

bench: $(BIN)/.ready-dev
	$(BIN)/python -m bench

bench-smoke: $(BIN)/.ready-dev
	$(BIN)/python -m bench --smoke

serve: $(BIN)/.ready-dev
	@# The same test langgraph dev makes before it silently moves to another port.
	@$(BIN)/python -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", $(PORT)))' 2>/dev/null || { \
		echo "error: port $(PORT) is already in use; stop what holds it or run 'make serve PORT=<free port>'" >&2; exit 1; }
	@# JOBS > 1: a group_trip run waits on the orchestrator runs it starts on this same server.
	LANGGRAPH_CLI_NO_ANALYTICS=1 LANGGRAPH_NO_VERSION_CHECK=true LANGSMITH_TRACING=$${LANGSMITH_TRACING:-false} \
		$(BIN)/langgraph dev --no-browser --no-reload --host 127.0.0.1 --port $(PORT) --n-jobs-per-worker $(JOBS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .langgraph_api *.egg-info
