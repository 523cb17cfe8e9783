# Two commands do everything on a fresh clone: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
# The suite runs in this many processes (pytest-xdist); each has its own test databases.
TEST_PROCESSES ?= 2
RUFF_OPTIONS := --line-length 100 --target-version py311

.PHONY: run test lint clean translations catalog

# The translation catalogs: sources (.po) in git, compiled (.mo) here when a source is newer.
CATALOG_SOURCES := $(wildcard surveys/translations/*/LC_MESSAGES/messages.po)
CATALOGS := $(CATALOG_SOURCES:.po=.mo)

surveys/translations/%/LC_MESSAGES/messages.mo: surveys/translations/%/LC_MESSAGES/messages.po | $(VENV)/.runtime-installed
	$(BIN)/pybabel compile --statistics -d surveys/translations -l $*

## translations: compile the catalogs whose source changed
translations: $(CATALOGS)

## catalog: extract every message the code uses into messages.pot and merge it into each .po
catalog: $(VENV)/.runtime-installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -w 100 --no-location --sort-output -o surveys/translations/messages.pot .
	$(BIN)/pybabel update -w 100 --no-fuzzy-matching --ignore-obsolete -i surveys/translations/messages.pot -d surveys/translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

## run: migrate, seed the demo once, serve the web app and the worker (Ctrl-C stops both)
# Links in emails and the demo's login link follow the port served, unless BASE_URL is set.
run: export BASE_URL ?= http://$(HOST):$(PORT)
run: $(VENV)/.runtime-installed translations
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo "Web app on http://$(HOST):$(PORT), worker delivering mail to instance/outbox/. Ctrl-C stops both."
	@$(FLASK) worker & \
	trap 'kill -TERM $$! 2>/dev/null; wait' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

## test: the whole suite (set TEST_DATABASE_URL to run it on PostgreSQL too)
test: $(VENV)/.dev-installed translations
	$(BIN)/python -m pytest tests -ra --strict-markers -n $(TEST_PROCESSES) $(PYTEST_ARGS)

## lint: ruff's checks and formatting, as CI runs them
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check $(RUFF_OPTIONS) --select E,F,W,I,B,UP surveys tests bench migrations app.py gunicorn.conf.py
	$(BIN)/ruff format --check $(RUFF_OPTIONS) surveys tests bench migrations app.py gunicorn.conf.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
