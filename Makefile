# Everything Cosign needs on a fresh machine is installed from here (and pyproject.toml).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The machine's own services, used by `make test-pg` and CI's second run.
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: install install-test run setup chromium test test-sqlite test-pg test-all bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test chromium

## Set up (venv, migrations, first admin, demo campaign) and run web + worker + beat.
run: install
	$(BIN)/campaign serve

setup: install
	$(BIN)/campaign setup

## Chromium for the browser tests comes from Debian's packages, not Playwright's download.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	elif command -v sudo >/dev/null 2>&1; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	else echo "Install Chromium (Debian package 'chromium') to run the browser tests."; fi

## The whole suite on the embedded defaults (SQLite, embedded broker).
test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

test-sqlite: test

## The whole suite again on PostgreSQL + Redis.
test-pg: install-test
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)

test-all: test test-pg

bench: install-test
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) var .pytest_cache
