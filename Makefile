# make lab | make test | make bench: each creates .venv on first use, and reinstalls only when
# pyproject.toml is newer than the stamp file. make lab installs the course alone; make test,
# make bench and make venv add the developer tools (the [dev] extra: ruff, awslambdaric) and
# the [dask] extra (a test grades on a Dask LocalCluster).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# JupyterLab reads setting overrides from <sys.prefix>/share/jupyter/lab/settings; Binder's
# postBuild copies the same file into its environment.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

# Extend from the command line, e.g. make test PYTEST_ARGS='-m "not slow"'.
PYTEST_ARGS ?=
PYTEST = $(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: venv lab test bench clean

venv: $(DEV_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e '.[dev,dask]'
	touch $@

$(LAB_SETTINGS): lab-settings/overrides.json | $(STAMP)
	mkdir -p $(dir $@)
	cp lab-settings/overrides.json $@

# Jupyter refuses to run as root unless told; containers often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# Lesson 00 opens, the file browser at the course's root (sandbox/course/lab.py). Extra options
# in LAB_ARGS, e.g. make lab LAB_ARGS='--no-browser --port 8890'. Stop it with Ctrl-C, twice.
LAB_ARGS ?=
lab: $(STAMP) $(LAB_SETTINGS)
	$(BIN)/python -m sandbox.course.lab $(ALLOW_ROOT) $(LAB_ARGS)

test: $(DEV_STAMP) $(LAB_SETTINGS)  # the settings too: a test proves JupyterLab serves them
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/course build --check
	$(PYTEST)
	$(PYTEST) --nbval lessons --nbval-sanitize-with tests/nbval_sanitize.cfg

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/run.py

# Removes the environment, caches and build output; never notebooks.
clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
