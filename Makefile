# Two commands on a fresh machine with Python 3.11 and make: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench fuzz clean browser-tools

$(BIN)/cadence: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/cadence
	$(BIN)/cadence run

test: $(BIN)/cadence browser-tools
	$(BIN)/python -m pytest

# What the browser tests (tests/browser/) need beside the venv: Debian's Chromium and axe-core from npm.
browser-tools:
	@bash tests/browser/install-tools.sh

lint: $(BIN)/cadence
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The fuzz tests with many more examples than the suite's (and Hypothesis shrinking what fails).
fuzz: $(BIN)/cadence
	CADENCE_FUZZ_EXAMPLES=$${CADENCE_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -o addopts="" -q tests/test_fuzz.py

bench: $(BIN)/cadence
	$(BIN)/python bench/who_owns_http.py
	$(BIN)/python bench/teams_http.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/tick_scale.py --studies 300
	$(BIN)/python bench/web_pages.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache tests/browser/node_modules tests/browser/artifacts
