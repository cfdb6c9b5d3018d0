# HuXiao — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-sqlite test-postgres lint format check messages browser bench clean demo

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "HuXiao needs Python 3.11 or newer"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: set up, migrate, load the demo township and serve at http://127.0.0.1:8000
run: $(STAMP)
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

## make browser: install Chromium and CJK fonts for the browser tests (Debian)
browser:
	scripts/install-browser.sh

bench: $(STAMP)
	scripts/install-bench-tools.sh
	$(BIN)/python bench/http_floor.py
	$(BIN)/python bench/roster.py
	$(BIN)/python bench/tracing.py

demo: $(STAMP)
	HUXIAO_DEMO=1 $(BIN)/python manage.py demo

clean:
	rm -rf $(VENV) var *.egg-info
