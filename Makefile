# Two commands on a fresh machine with Python 3.11 and make: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/cadence: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/cadence
	$(BIN)/cadence run

test: $(BIN)/cadence
	$(BIN)/python -m pytest

lint: $(BIN)/cadence
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(BIN)/cadence
	$(BIN)/python bench/who_owns_http.py
	$(BIN)/python bench/teams_http.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/simulate.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
