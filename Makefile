# sleekbatch — see README.md. Every target sets up what it needs on a fresh machine.
SHELL := /bin/bash
PYTHON_BIN ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MANAGE := $(PY) manage.py
PG_URL ?= postgres://postgres@127.0.0.1:5432/sleekbatch
REDIS_BASE ?= redis://127.0.0.1:6379

.PHONY: install demo up migrate seed test test-sqlite test-postgres chaos lint format bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

var:
	mkdir -p var

migrate: $(STAMP) var
	$(MANAGE) migrate --noinput -v0

seed: migrate
	$(MANAGE) seed_demo
	$(MANAGE) setup_periodic_tasks

# The main job on the embedded default (SQLite + filesystem broker), in its own
# state folder (var/demo/, made anew each run) so that it never touches the data of `make up`.
# The demo compresses hours of buying into seconds (3 buyers, 2,000 orders in ~15 s), far past the
# per-buyer submission limits that protect production, so its own web process raises them.
DEMO_ENV := env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL SLEEKBATCH_VAR_DIR=$(CURDIR)/var/demo \
	SLEEKBATCH_THROTTLE_ORDERS_SUBMIT=100000/min SLEEKBATCH_THROTTLE_USER=100000/min
demo: $(STAMP) var
	rm -rf var/demo
	$(DEMO_ENV) $(MANAGE) migrate --noinput -v0
	$(DEMO_ENV) $(MANAGE) seed_demo
	$(DEMO_ENV) $(MANAGE) demo $(DEMO_ARGS)

# web, worker, beat and Flower from the Procfile on the embedded default, by scripts/up.py: one
# "ready" line with the URLs and logins once each answers; Ctrl-C stops them (a warm shutdown).
# The services are checked before anything is migrated. SLEEKBATCH_VAR_DIR=var/demo serves the
# data of the last `make demo`.
# Flower refuses to start without a login (flowerconfig.py); this one is for the local demo only.
FLOWER_BASIC_AUTH ?= ops:ops
up: $(STAMP) var
	$(MANAGE) check_services
	$(MAKE) --no-print-directory seed
	FLOWER_BASIC_AUTH="$(FLOWER_BASIC_AUTH)" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) scripts/up.py

# Tests run twice: on SQLite, then on PostgreSQL + Redis when reachable
# (required when SLEEKBATCH_REQUIRE_SERVICES=1, as in CI).
test: $(STAMP) var
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: $(STAMP) var
	@echo "== tests on SQLite + filesystem broker =="
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL $(PY) -m pytest -q $(PYTEST_ARGS)

test-postgres: $(STAMP) var
	@if $(PY) scripts/services_reachable.py "$(PG_URL)" "$(REDIS_BASE)/0"; then \
		echo "== tests on PostgreSQL + Redis =="; \
		DATABASE_URL="$(PG_URL)" CELERY_BROKER_URL="$(REDIS_BASE)/14" REDIS_URL="$(REDIS_BASE)/15" \
			$(PY) -m pytest -q $(PYTEST_ARGS); \
	elif [ "$$SLEEKBATCH_REQUIRE_SERVICES" = "1" ]; then \
		echo "PostgreSQL/Redis unreachable and SLEEKBATCH_REQUIRE_SERVICES=1: failing" >&2; exit 1; \
	else \
		echo "== PostgreSQL/Redis unreachable: skipping the second run (set SLEEKBATCH_REQUIRE_SERVICES=1 to fail) =="; \
	fi

# Fault injection (tests/chaos, docs/reliability.md): its own throwaway PostgreSQL cluster and
# Redis on free ports, real gunicorn, workers and beat, and a RabbitMQ vhost of its own; it
# touches none of the shared servers. About six minutes. CHAOS_ARGS="-k redis" runs one scenario.
chaos: $(STAMP) var
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL SLEEKBATCH_CHAOS=1 \
		$(PY) -m pytest tests/chaos -s -q $(CHAOS_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Throughput figures on PostgreSQL + Redis with real workers (the bench/ package); merges them
# into var/bench.json. It empties the order and batch tables, so it runs in its own database,
# <PG_URL>_bench (created if missing; BENCH_DATABASE_URL overrides).
# Flags: BENCH_ARGS="--phase pool --orders 20000" (see python -m bench --help).
# The bench runs the production profile, which refuses the repository's key (fresh keys per run),
# over plain HTTP on loopback.
bench: export SECRET_KEY ?= $(shell $(PYTHON_BIN) -c 'import secrets; print(secrets.token_urlsafe(50))')
# Its suppliers carry no bank or contact details, so a fresh field key per run reads them all.
bench: export SLEEKBATCH_FIELD_KEYS ?= $(shell $(PYTHON_BIN) -c 'import base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')
bench: export SLEEKBATCH_HTTPS ?= 0
bench: $(STAMP) var
	DATABASE_URL="$${BENCH_DATABASE_URL:-$(PG_URL)_bench}" CELERY_BROKER_URL="$(REDIS_BASE)/12" REDIS_URL="$(REDIS_BASE)/13" \
		$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var
