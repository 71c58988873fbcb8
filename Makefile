# The project's commands. `make help` lists them.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= S

.DEFAULT_GOAL := help
.PHONY: help setup run test lint fmt seed worker beat messages check bench

help: ## list every target with its one-line description
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed node_modules/.installed ## create .venv, install Python packages and the npm front-end assets

run: setup ## migrate, load demo data on first start, serve at http://127.0.0.1:8000 with a worker and beat
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --scale $(SCALE) --if-empty
	$(BIN)/python manage.py devserver

test: setup ## run the whole test suite (uses DATABASE_URL and REDIS_URL when set)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup ## ruff lint and format check, migrations check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

fmt: setup ## format the code and fix what ruff can fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

seed: setup ## replace the data with the demo data at SCALE (XS, S, M, L)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --scale $(SCALE) --reset

worker: setup ## run a Celery worker in the foreground
	$(BIN)/celery -A crm worker --loglevel=INFO

beat: setup ## run Celery beat in the foreground
	$(BIN)/celery -A crm beat --loglevel=INFO --schedule=var/celerybeat-schedule

messages: setup ## update the translation catalogues and compile them
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=node_modules
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules

# The benchmark's load generator (locust) lives in a virtualenv of its own: it is heavy,
# only the benchmark needs it, and CI never installs it.
BENCH_VENV := .venv-bench
# `make bench` is scale M unless SCALE is given on the command line (`make bench SCALE=S`).
BENCH_SCALE := $(if $(filter command line environment,$(origin SCALE)),$(SCALE),M)

$(BENCH_VENV)/.installed: requirements-bench.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -r requirements-bench.txt
	touch $@

bench: setup $(BENCH_VENV)/.installed ## benchmark pages, imports and jobs at scale M (SCALE=S: quick) against same-run baselines
	$(BIN)/python -m bench --scale $(BENCH_SCALE) $(BENCH_ARGS)
