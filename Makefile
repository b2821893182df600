# eufunds: `make demo` runs the main job on the embedded default; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean shared

shared:
	@test -d $(SHARED)/snapshot/ft_portal || { echo "shared data not found in $(SHARED) (run with SHARED=/path/to/shared)"; exit 2; }

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: shared $(STAMP)
	$(BIN)/eufunds config check
	$(BIN)/eufunds run-once --replay $(SHARED)/snapshot --as-of 2026-08-22

test: shared $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	EUFUNDS_SHARED=$(SHARED) $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: shared $(STAMP)
	EUFUNDS_SHARED=$(SHARED) $(BIN)/python benchmarks/startup.py
	EUFUNDS_SHARED=$(SHARED) $(BIN)/python benchmarks/crawl_throughput.py
	EUFUNDS_SHARED=$(SHARED) $(BIN)/python benchmarks/recrawl.py
	EUFUNDS_SHARED=$(SHARED) $(BIN)/python benchmarks/matcher_speed.py
	EUFUNDS_SHARED=$(SHARED) $(BIN)/python benchmarks/analysis_speed.py
	EUFUNDS_SHARED=$(SHARED) $(BIN)/python benchmarks/matcher_scale.py
	EUFUNDS_SHARED=$(SHARED) $(BIN)/python benchmarks/preview_speed.py
	EUFUNDS_SHARED=$(SHARED) $(BIN)/python benchmarks/feedback_curve.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache *.egg-info
