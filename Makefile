# The two commands: `make run` (the app on demo data) and `make test` (every
# test, lint and type check). Both set up everything on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test lint typecheck docs setup system-deps bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the lock file or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

setup: $(STAMP)

# PostgreSQL, Chromium, Dovecot and nginx for the real-database, real-browser,
# real-mailbox and deployment tests, from Debian's packages, when missing and when we
# may install them (root + apt).
system-deps:
	@missing=""; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium fonts-dejavu-core"; \
	[ -x /usr/sbin/dovecot ] || missing="$$missing dovecot-imapd"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian packages:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
			|| echo "NOTE: apt-get could not install$$missing; those tests will be skipped with a reason."; \
	else \
		echo "NOTE: cannot install$$missing (needs root and apt-get); those tests will be skipped with a reason."; \
	fi

run: setup
	$(BIN)/onboarding init
	$(BIN)/onboarding demo --if-empty
	$(BIN)/onboarding user ensure-admin
	@echo "Open http://localhost:$(PORT) and sign in."
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

# The command reference in docs/interface.md, from the parser (tests/test_docs.py checks it).
docs: setup
	$(BIN)/python -m tests.test_docs

# Two groups side by side: the browser tests mostly wait on Chromium and the app servers,
# so they overlap well with the rest. The browser group's output follows the rest's.
test: setup system-deps lint typecheck
	@mkdir -p test-output
	@$(BIN)/pytest -m browser -p no:cacheprovider > test-output/pytest-browser.log 2>&1 & browser=$$!; \
	$(BIN)/pytest -m "not browser"; rest=$$?; \
	wait $$browser; browser_rc=$$?; \
	echo "----- the browser tests (test-output/pytest-browser.log) -----"; \
	cat test-output/pytest-browser.log; \
	echo "make test: the rest exited $$rest, the browser tests $$browser_rc"; \
	[ $$rest = 0 ] && [ $$browser_rc = 0 ]

bench: setup system-deps
	$(BIN)/python -m bench

# Re-pin every dependency after editing pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output
