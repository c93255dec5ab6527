# The project's commands. `make demo` and `make test` do every set-up step themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
LINTED := config catalog audit mirror tests bench bin manage.py conftest.py
# PostgreSQL: a role that may create roles (pg-roles), and for test-postgres the server, its
# database (where runs are recorded; pytest makes test_<name>_<pid> beside it) and the two roles.
PG_SERVER ?= 127.0.0.1:5432
PG_ADMIN_URL ?= postgres://postgres@$(PG_SERVER)/postgres
PG_DATABASE ?= catalog_ci
PG_APP_URL ?= postgres://catalog_app@$(PG_SERVER)/$(PG_DATABASE)
PG_OWNER_URL ?= postgres://catalog_owner@$(PG_SERVER)/$(PG_DATABASE)
# Settings keep DEBUG off unless it is set; these targets are for development, so they turn it
# on (`make worker DEBUG=0` or an exported DEBUG wins). Production sets its own, see deploy/.
export DEBUG ?= 1

.PHONY: install install-dev lock migrate demo worker scheduler test test-postgres pg-roles lint audit-deps format check check-deploy clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed: run make PYTHON=python3.11 $(MAKECMDGOALS)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs come from the hashed lock files only: pip refuses any file whose hash differs.
$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(VENV)/.runtime $@

install: $(VENV)/.runtime  ## runtime dependencies into .venv

install-dev: $(VENV)/.dev  ## test and lint dependencies into .venv

# requirements*.txt are the pinned direct dependencies people edit; the .lock files pin every
# transitive one with its hashes. Run after editing a requirements file, commit both.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --no-strip-extras --no-emit-index-url --no-emit-find-links
lock: install-dev  ## regenerate requirements.lock and requirements-dev.lock (with hashes) from requirements*.txt
	$(PIP_COMPILE) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) --output-file requirements-dev.lock requirements-dev.txt

demo: install  ## the whole app, offline: mirror, sync, admin account, site on :8000
	$(PY) -m bin.demo

worker: migrate  ## a task worker: page-view and admin refreshes, scheduled and sharded syncs (run several)
	$(PY) manage.py db_worker --queue-name default,sync --no-reload --interval 0.5

scheduler: migrate  ## queue a whole-catalog sync every CATALOG_SYNC_INTERVAL seconds (for the workers)
	$(PY) manage.py schedule_syncs

migrate: install  ## bring the main database up to date (lint and test runs are recorded there)
	$(PY) manage.py migrate --verbosity 0

test: install-dev migrate lint  ## the whole suite with the coverage gate, after lint
	$(PY) -m pytest --cov --cov-report=term-missing:skip-covered

# As production runs: connected as catalog_app, migrated by catalog_owner, which here also creates
# (CREATEDB, test servers only) and migrates pytest's test database (tests/database_roles.py).
test-postgres: PG_ROLES_OPTIONS = --database $(PG_DATABASE) --createdb
test-postgres: install-dev pg-roles  ## the suite again on PostgreSQL (PG_SERVER), as the app role catalog_app
	DATABASE_URL=$(PG_APP_URL) MIGRATE_DATABASE_URL=$(PG_OWNER_URL) $(PY) manage.py migrate --verbosity 0
	DATABASE_URL=$(PG_APP_URL) MIGRATE_DATABASE_URL=$(PG_OWNER_URL) $(PY) -m pytest -q

pg-roles: install  ## create the PostgreSQL roles catalog_owner (migrations) and catalog_app (the site), idempotently
	$(PY) -m bin.pg_roles $(PG_ADMIN_URL) $(PG_ROLES_OPTIONS)

lint: install-dev  ## ruff check, ruff format --check, mypy --strict, then pylint (10.00/10; the score goes on the audit record)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@report=$$(mktemp); \
	$(BIN)/pylint --fail-under=10 --output-format=json2:$$report,colorized $(wildcard $(LINTED)); status=$$?; \
	$(PY) manage.py audit_record_lint $$report || echo "make lint: the score was not recorded" >&2; \
	rm -f $$report; exit $$status

audit-deps: install-dev  ## pip-audit of the installed dependencies against known vulnerabilities
	$(BIN)/pip-audit --progress-spinner off

format: install-dev  ## reformat with ruff and apply its safe fixes (import order...)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install  ## Django's system checks, and no model change without its migration
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

check-deploy: install  ## the deployment checks, with the production settings deploy/ sets (DEBUG off)
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
		ALLOWED_HOSTS=catalog.example.com $(PY) manage.py check --deploy --fail-level WARNING

clean:  ## remove the virtualenv, caches and local data
	rm -rf $(VENV) .pytest_cache .coverage htmlcov .test-db.sqlite3*
