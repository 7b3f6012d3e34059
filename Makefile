# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# The tests run on a private PostgreSQL cluster (scripts/services), as production does.
TEST_DATABASE_URL ?= $(shell scripts/services pg-url)

.PHONY: run test lint format deps services

deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/bootstrap
	VENV=$(VENV) scripts/bootstrap

run: deps
	VENV=$(VENV) scripts/run

services:
	scripts/services ensure
	scripts/services browser
	scripts/services pg-start

test: deps lint services
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest
	# The emulator again on SQLite, the embedded default `make run` serves it from.
	$(PY) -m pytest -q tests/wixemulator

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

format: deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
