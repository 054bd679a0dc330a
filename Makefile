# The two commands: `make run` and `make test`. Both need only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export GUANXI_DATA_DIR ?= var

.PHONY: run test check format lint types vendor clean i18n

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed  ## venv, install, migrate, demo data; serve the app (:8000), the sandbox (:8100) and a worker
	$(BIN)/guanxi db upgrade
	$(BIN)/guanxi demo
	$(BIN)/guanxi up --port 8000 --sandbox-port 8100

test: $(VENV)/.installed  ## the whole suite, with the models/migrations agreement check
	$(BIN)/python scripts/alembic_check.py
	$(BIN)/python -m pytest -n 2 --durations=40

check: $(VENV)/.installed  ## format, lint, types
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/ruff check src tests scripts
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff format src tests scripts
	$(BIN)/ruff check --fix src tests scripts

i18n: $(VENV)/.installed  ## extract the UI strings, merge them into the .po catalogs, check all are translated
	$(BIN)/python scripts/i18n.py extract update check

vendor:  ## refresh the vendored front-end files from the npm registry
	bash scripts/vendor.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
