# HuXiao — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-sqlite test-postgres lint format check messages browser bench clean demo lock audit

$(STAMP): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "HuXiao needs Python 3.11 or newer"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -c requirements/constraints.txt
	touch $(STAMP)

## make lock: re-pin requirements/constraints.txt to what a fresh install of pyproject's ranges
## resolves to today (review the diff, run the suite, commit)
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ grep '^#' requirements/constraints.txt; .lock-venv/bin/pip freeze --exclude-editable --all \
		| grep -v -E '^(pip|setuptools|wheel)=='; } > requirements/constraints.txt.new
	mv requirements/constraints.txt.new requirements/constraints.txt
	rm -rf .lock-venv

## make audit: known vulnerabilities in the pinned dependencies (pip-audit; needs the network)
audit:
	scripts/audit-deps.sh

## make run: set up, migrate, load the demo township and serve at http://127.0.0.1:8000
run: $(STAMP)
	@scripts/install-report-tools.sh || echo "make run: could not install the PDF fonts and tools; PDF reports will say so (see README)"
	$(BIN)/python manage.py migrate --noinput
	HUXIAO_DEMO=1 $(BIN)/python manage.py demo
	HUXIAO_DEMO=1 $(BIN)/python manage.py serve

## make test: the whole suite (unit, API, pages, browser) on the configured database
PYTEST_ARGS ?= -n auto
test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

## make messages: refresh the translation catalogs and compile them
messages: $(STAMP)
	cd huxiao && ../$(BIN)/python ../manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore 'static/*'
	cd huxiao && ../$(BIN)/python ../manage.py compilemessages

## make browser: install what the tests need beyond Python (Debian): Chromium and CJK fonts,
## PDF tools, nginx/openssl (scale-mode test), pg_dump/pg_restore (backups)
browser:
	scripts/install-browser.sh
	scripts/install-report-tools.sh
	scripts/install-deploy-tools.sh
	scripts/install-ops-tools.sh

bench: $(STAMP)
	scripts/install-bench-tools.sh
	$(BIN)/python bench/http_floor.py
	$(BIN)/python bench/roster.py
	$(BIN)/python bench/tracing.py
	$(BIN)/python bench/dashboard.py

demo: $(STAMP)
	HUXIAO_DEMO=1 $(BIN)/python manage.py demo

clean:
	rm -rf $(VENV) var *.egg-info
