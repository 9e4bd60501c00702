# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := libimage-exiftool-perl libvips-tools chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck test-only system-deps bench wheel-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

# Debian tools the tests and benchmarks use: exiftool (independent metadata reader),
# vipsthumbnail (speed peer), chromium (page tests). Installed only when missing.
system-deps:
	@missing=""; \
	command -v exiftool >/dev/null || missing="$$missing libimage-exiftool-perl"; \
	command -v vipsthumbnail >/dev/null || missing="$$missing libvips-tools"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: $(STAMP)
	rm -rf demo-out
	$(BIN)/consentreg demo --dir demo-out

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# The whole suite on SQLite and on a throwaway PostgreSQL (started here, stopped after).
test: $(STAMP) system-deps lint typecheck
	@url=$$(scripts/throwaway-postgres.sh start) || exit 1; \
	CONSENTREG_TEST_PG_URL=$$url CONSENTREG_REQUIRE_PG=1 CONSENTREG_REQUIRE_EXIFTOOL=1 CONSENTREG_REQUIRE_CHROMIUM=1 \
	  $(BIN)/pytest -q $(PYTEST_ARGS); rc=$$?; \
	scripts/throwaway-postgres.sh stop; exit $$rc

test-only: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: $(STAMP) system-deps
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) demo-out build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
