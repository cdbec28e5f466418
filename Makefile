# make lab | make test | make bench: each creates .venv on first use, and reinstalls only when
# pyproject.toml is newer than the stamp file.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Extend from the command line, e.g. make test PYTEST_ARGS='-m "not slow"'.
PYTEST_ARGS ?=
PYTEST = $(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: venv lab test bench clean

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

# Jupyter refuses to run as root unless told; containers often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir=. lessons/00-welcome.ipynb

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/course build --check
	$(PYTEST)
	$(PYTEST) --nbval lessons --nbval-sanitize-with tests/nbval_sanitize.cfg

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Removes the environment, caches and build output; never notebooks.
clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
