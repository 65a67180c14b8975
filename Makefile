# The whole developer interface. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,bench,pii,server]'
	touch $@

$(VENV)/.bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[bench,pii,server]'
	touch $@

demo: $(VENV)/.core
	$(BIN)/proctor demo

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks examples training
	$(BIN)/ruff format --check src tests benchmarks examples training
	$(BIN)/mypy --strict src

test: lint
	$(BIN)/python -m pytest

bench: $(VENV)/.bench
	$(BIN)/python benchmarks/bench_decide.py
	PYTHONHASHSEED=0 $(BIN)/proctor bench agentdojo --json benchmarks/results/agentdojo.json
	$(BIN)/python benchmarks/bench_audit.py
	$(BIN)/python benchmarks/bench_receipts.py
	$(BIN)/python benchmarks/bench_detect.py
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_approvals.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/proctor bench monitor --plot benchmarks/results/monitor.png --json benchmarks/results/monitor.json
	$(BIN)/python benchmarks/bench_gateway.py
	$(BIN)/python benchmarks/bench_gateway_floor.py

docs: $(VENV)/.core
	$(BIN)/python -m proctor.docgen

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
