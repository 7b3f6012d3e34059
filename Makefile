# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# `make test PYTEST_ARGS="tests/engine -x"` runs only those, through the same wrapper (services
# started and stopped, nothing left in the temporary directory); empty: the whole suite.
PYTEST_ARGS ?=

.PHONY: run test lint format deps keys services services-stop

deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/bootstrap
	VENV=$(VENV) scripts/bootstrap

# The key files under var/ that the settings read when the environment has none (idempotent).
keys: deps
	$(PY) manage.py init_keys

run: deps
	VENV=$(VENV) scripts/run

# Installs what the tests need; `make test` starts and stops the services itself (scripts/test).
services:
	scripts/services ensure
	scripts/services browser

# By hand: stop this checkout's PostgreSQL cluster (e.g. one started with scripts/services pg-start).
services-stop:
	scripts/services stop

test: deps lint services
	VENV=$(VENV) scripts/test $(PYTEST_ARGS)

# With the emulator on, so its models are checked for missing migrations too.
lint: deps keys
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	WIXEMULATOR_ENABLED=1 $(PY) manage.py makemigrations --check --dry-run
	WIXEMULATOR_ENABLED=1 $(PY) manage.py check

format: deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
