# The same targets serve people, CI and hooks. Each bootstraps the project's own virtualenv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 2024
JOBS   ?= 10
# Pinned with hashes for CPython 3.11 (`make lock`); the dev lock holds the run lock's pins too.
RUN_LOCK := requirements/run.lock
DEV_LOCK := requirements/dev.lock
PIP_TOOLS ?= pip-tools==7.6.2
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

.DEFAULT_GOAL := help
.PHONY: help demo test lint typecheck unit bench bench-smoke serve clean cluster cluster-stop cluster-venv bench-cluster

help:
	@echo "make demo         run the showcase trip offline (no API key needed)"
	@echo "make test         lint, type-check and run the whole test suite"
	@echo "make lint         ruff check and ruff format --check"
	@echo "make typecheck    mypy --strict"
	@echo "make unit         the unit tests only (tests/unit)"
	@echo "make bench        run the benchmarks and write BENCHMARKS.md"
	@echo "make bench-smoke  run every benchmark at a tiny size (a check that each still runs)"
	@echo "make eval         score your model on the travel scenarios (MODEL=..., EVAL_FLAGS=--scripted: offline)"
	@echo "make serve        start 'langgraph dev' offline on port $(PORT) (for Studio; PORT=N for another)"
	@echo "make lock         re-resolve requirements/*.lock from pyproject.toml (UPGRADE=1: newest)"
	@echo "make research     answer a question from the local documents with LLM agents (offline)"
	@echo "make cluster      start Aegra: an API process and WORKERS=2 queue workers (PostgreSQL, Redis)"
	@echo "make cluster-stop stop the processes 'make cluster' started"
	@echo "make cluster-venv build the cluster's own virtualenv (make cluster does it when needed)"
	@echo "make bench-cluster B7: runs per second with 1 and 2 workers, and recovery after a SIGKILL"
	@echo "make clean        remove the virtualenv and the caches"

# Dependencies come only from the locks (exact versions, checked against their hashes); the
# project itself is then installed without resolving anything.
$(BIN)/.ready-run: pyproject.toml $(RUN_LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(RUN_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(BIN)/.ready-dev: $(BIN)/.ready-run $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	@touch $@

# Re-resolves the locks from pyproject.toml with pip-tools in a throwaway virtualenv (needs the
# package index). Pins already in the locks are kept while they still fit; `make lock UPGRADE=1`
# moves everything to the newest versions allowed. The run lock is resolved from the dev lock's
# pins, so the two never disagree.
.PHONY: lock
lock:
	@tool=$$(mktemp -d) && trap 'rm -rf "$$tool"' EXIT && \
	$(PYTHON) -m venv "$$tool/venv" && \
	"$$tool/venv/bin/python" -m pip install --quiet $(PIP_TOOLS) && \
	mkdir -p requirements && \
	export CUSTOM_COMPILE_COMMAND="make lock" && \
	"$$tool/venv/bin/pip-compile" $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) --extra dev \
		--output-file $(DEV_LOCK) pyproject.toml && \
	cp $(DEV_LOCK) "$$tool/run.lock" && \
	"$$tool/venv/bin/pip-compile" $(LOCK_FLAGS) --output-file "$$tool/run.lock" pyproject.toml && \
	cp "$$tool/run.lock" $(RUN_LOCK) && \
	echo "wrote $(RUN_LOCK) and $(DEV_LOCK)"

demo: $(BIN)/.ready-run
	$(BIN)/orchestrator demo

lint: $(BIN)/.ready-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.ready-dev
	$(BIN)/mypy

# The tests run in TEST_JOBS pytest-xdist workers (the machines have 2 cores); a module, or the
# cluster tests, runs whole on one worker (the groups: tests/conftest.py). TEST_JOBS=0: one process.
TEST_JOBS ?= 2
PYTEST_JOBS = $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS) --dist loadgroup)

unit: $(BIN)/.ready-dev
	$(BIN)/pytest -q $(PYTEST_JOBS) tests/unit

test: lint typecheck
	$(BIN)/pytest -q $(PYTEST_JOBS)

.PHONY: research
research: $(BIN)/.ready-run
	$(BIN)/python -m domains.research $(ARGS)

bench: $(BIN)/.ready-dev
	$(BIN)/python -m bench

bench-smoke: $(BIN)/.ready-dev
	$(BIN)/python -m bench --smoke

# The scenario suite with your model (OPENAI_API_KEY, OPENAI_BASE_URL, MODEL=...) and the rules;
# `make eval EVAL_FLAGS=--scripted` runs it offline against the scripted loopback model.
.PHONY: eval
eval: $(BIN)/.ready-run
	$(BIN)/python -m eval $(if $(MODEL),--model $(MODEL)) $(EVAL_FLAGS)

serve: $(BIN)/.ready-dev
	@# The same test langgraph dev makes before it silently moves to another port.
	@$(BIN)/python -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", $(PORT)))' 2>/dev/null || { \
		echo "error: port $(PORT) is already in use; stop what holds it or run 'make serve PORT=<free port>'" >&2; exit 1; }
	@# JOBS > 1: a group_trip run waits on the orchestrator runs it starts on this same server.
	LANGGRAPH_CLI_NO_ANALYTICS=1 LANGGRAPH_NO_VERSION_CHECK=true LANGSMITH_TRACING=$${LANGSMITH_TRACING:-false} \
		$(BIN)/langgraph dev --no-browser --no-reload --host 127.0.0.1 --port $(PORT) --n-jobs-per-worker $(JOBS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .langgraph_api *.egg-info

# --- cluster: Aegra (Python 3.12) as an API process plus queue workers on PostgreSQL and Redis ---
# Its own virtualenv, inside .venv/ (ignored by git, ruff and 'make clean' removes it too).
CLUSTER_VENV := $(VENV)/cluster
CLUSTER_BIN  := $(CLUSTER_VENV)/bin
WORKERS      ?= 2
# The cluster's port: PORT when given (make cluster PORT=2030), else 2026 (make serve keeps 2024).
CLUSTER_PORT  = $(if $(filter file,$(origin PORT)),2026,$(PORT))
# Python 3.12: PYTHON312 if set, else the first that runs of pyenv's 3.12 builds and python3.12
# on PATH (a pyenv shim on PATH may exist and still refuse to run).
PYTHON312    ?= $(shell for p in "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.12*/bin/python3.12 \
	python3.12; do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null \
	&& { command -v "$$p"; break; }; done)
CLUSTER_ARGS  = --port $(CLUSTER_PORT) --workers $(WORKERS)

# The project's dependencies at the run lock's versions (its pins without the 3.11 hashes, as
# constraints), Aegra and its own dependencies at cluster/requirements.txt's.
$(CLUSTER_BIN)/.ready: pyproject.toml cluster/requirements.txt $(RUN_LOCK)
	@test -n "$(PYTHON312)" || { echo "error: the cluster (Aegra) needs Python 3.12: install it (pyenv install 3.12, or apt-get install python3.12) or set PYTHON312=/path/to/python3.12" >&2; exit 1; }
	@test -x $(CLUSTER_BIN)/python || $(PYTHON312) -m venv $(CLUSTER_VENV)
	@sed -n 's/^\([A-Za-z0-9_.-]*==[^ ]*\).*/\1/p' $(RUN_LOCK) > $(CLUSTER_VENV)/constraints.txt
	$(CLUSTER_BIN)/python -m pip install --quiet --upgrade pip
	$(CLUSTER_BIN)/python -m pip install --quiet -c $(CLUSTER_VENV)/constraints.txt \
		-r cluster/requirements.txt -e .
	@touch $@

cluster-venv: $(CLUSTER_BIN)/.ready

cluster: $(CLUSTER_BIN)/.ready
	@$(CLUSTER_BIN)/python cluster/cluster.py start $(CLUSTER_ARGS)

# B7 (issue #18) runs on its own: it starts clusters, which needs Python 3.12, PostgreSQL and Redis.
bench-cluster: $(CLUSTER_BIN)/.ready
	$(CLUSTER_BIN)/python cluster/bench_b7.py

cluster-stop:
	@$(or $(wildcard $(CLUSTER_BIN)/python),$(PYTHON)) cluster/cluster.py stop
