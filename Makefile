# The two commands of the README are `make run` and `make test`.
# Everything a fresh machine needs (venv, packages, compiled translations) is made here.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
DEMO_HOUSEHOLDS ?= 20000
HOST ?= 127.0.0.1
PORT ?= 5000
# pytest-xdist workers (auto: one per core), each with its own app and database
# (tests/conftest.py); loadgroup keeps the smoke module on one worker, which seeds its database
# once; the 15 slowest tests are listed at the end of each run
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

.PHONY: run test bench lint translations extract-messages clean

# --no-compile: Python compiles what is imported on first use, instead of pip compiling every
# module of every package (Faker's hundreds of locales, ReportLab…) at install
PIP := $(BIN)/python -m pip --disable-pip-version-check install --quiet --no-compile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.txt
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $@

translations: $(VENV)/.runtime
	$(BIN)/pybabel compile --statistics -d heating/translations

# --ignore-dirs ".*": Babel's default also skips folders starting with "_" (templates/_macros)
extract-messages: $(VENV)/.runtime
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 --ignore-dirs ".*" \
		-o heating/translations/messages.pot .
	$(BIN)/pybabel update -i heating/translations/messages.pot -d heating/translations --no-fuzzy-matching

# flask run and the app both read these: PUBLIC_BASE_URL (the QR codes' address) defaults to
# the address actually served, so `make run PORT=5101` prints working QR codes
run: export FLASK_RUN_HOST = $(HOST)
run: export FLASK_RUN_PORT = $(PORT)
run: $(VENV)/.runtime translations
	$(FLASK) db upgrade
	$(FLASK) demo-data --households $(DEMO_HOUSEHOLDS) --seed 1 --if-empty
	$(FLASK) demo-logins
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	$(FLASK) run

test: $(VENV)/.dev translations
	env -u TEST_DATABASE_URL $(PYTEST)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		$(PYTEST); \
	fi

bench: $(VENV)/.dev translations
	$(BIN)/python -m bench

lint: $(VENV)/.dev
	$(BIN)/ruff check heating tests bench config.py wsgi.py

clean:
	rm -rf $(VENV) .pytest_cache
