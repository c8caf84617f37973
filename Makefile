# Amparo — two commands on a fresh Debian machine with Python 3.11 and make:
#   make demo   run Amparo with synthetic DEMO data at http://127.0.0.1:8000
#   make test   install the dev tools and run every check and test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_VAULT ?= .demo-vault
DEMO_PASSPHRASE ?= amparo-demo-passphrase
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: demo test lint typecheck pytest reliability bench bench-quick bench-api bench-pages bench-analytics soak docs messages screenshots lock clean help

help:
	@echo "make demo    - create (once) and serve a DEMO vault at http://127.0.0.1:8000"
	@echo "make test    - lint, type-check and run the whole test suite"
	@echo "               (PostgreSQL too: AMPARO_TEST_DATABASE_URL=postgresql://... make test)"
	@echo "make bench   - every benchmark in turn, each writing its part of docs/benchmarks.md"
	@echo "               (BENCH_ARGS='--million' adds 1,000,000 incidents; --list, --only)"
	@echo "make bench-quick - every benchmark, small, into a scratch file (checks the chain)"
	@echo "make soak    - 20 users mixing reads and writes for 10 minutes, SQLite and PostgreSQL"
	@echo "make bench-api   - JSON API under load, 20 clients, SQLite and PostgreSQL"
	@echo "make bench-pages - staff pages (incident list and record), SQLite and PostgreSQL"
	@echo "make bench-analytics - aggregates over 1,000,000 acts, SQLite and PostgreSQL"
	@echo "make reliability - 30 rounds of kill -9 during writes (server and CLI, SQLite and"
	@echo "               PostgreSQL) and the disk-full test; numbers into docs/reliability.md"
	@echo "make docs    - regenerate generated docs (CLI reference, vocabularies)"
	@echo "make lock    - re-pin requirements/*.lock from pyproject.toml"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements/runtime.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/runtime.lock
	$(BIN)/pip install --quiet --no-deps -e . --config-settings editable_mode=compat
	touch $@

$(VENV)/.dev: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e . --config-settings editable_mode=compat
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	@echo "Demo vault passphrase: $(DEMO_PASSPHRASE)"
	AMPARO_PASSPHRASE='$(DEMO_PASSPHRASE)' $(BIN)/amparo demo --vault $(DEMO_VAULT)

lint: $(VENV)/.dev
	$(BIN)/ruff check amparo tests bench tools
	$(BIN)/ruff format --check amparo tests bench tools

typecheck: $(VENV)/.dev
	$(BIN)/mypy

pytest: $(VENV)/.dev
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(VENV)/.dev
	$(BIN)/python -m bench.all $(BENCH_ARGS)

bench-quick: $(VENV)/.dev
	$(BIN)/python -m bench.all --quick $(BENCH_ARGS)

soak: $(VENV)/.dev
	$(BIN)/python -m bench.soak --minutes 10 --backend both --write docs/benchmarks.md

bench-api: $(VENV)/.dev
	$(BIN)/python -m bench.api_bench --backend both --workers 2 --write docs/benchmarks.md

bench-pages: $(VENV)/.dev
	$(BIN)/python -m bench.pages_bench --backend both --write docs/benchmarks.md

bench-analytics: $(VENV)/.dev
	$(BIN)/python -m bench.analytics_bench --acts 1000000 --backend both --write docs/benchmarks.md

reliability: $(VENV)/.dev
	$(BIN)/python -m bench.reliability --rounds 30 --cli-rounds 30 --backend both \
		--write docs/reliability.md $(RELIABILITY_ARGS)

docs: $(VENV)/.dev
	$(BIN)/python -m amparo.domain.vocabularies > docs/vocabularies.md
	$(BIN)/python -m amparo.cli.reference > docs/cli.md
	$(BIN)/python -m amparo.security.permissions > docs/permissions.md
	$(BIN)/python -m amparo.audit docs/audit.md
	$(BIN)/python -m amparo.web.api.reference docs/api.md

# Photograph the main pages of a throwaway DEMO vault into docs/screenshots/ (needs chromium)
screenshots: $(VENV)/.dev
	$(BIN)/python tools/screenshots.py --out docs/screenshots

# Re-extract the interface strings; add translations with tools/fill_catalogs.py TABLE.py
messages: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header \
		-o amparo/web/locale/messages.pot .
	$(BIN)/python tools/fill_catalogs.py

lock: $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements/runtime.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements/dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
