# The two commands of the README:
#   make run    set up .venv, run the whole pipeline on the sample study in interviews/, then serve the dashboard
#   make test   set up .venv (Chromium for the browser tests, PostgreSQL for the store tests) and run the whole test suite
STUDY ?= interviews

.PHONY: run test setup dashboard clean-store

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/toolkit run $(STUDY)
	.venv/bin/toolkit dashboard $(STUDY)

test: setup
	@bash scripts/setup-browser.sh
	@bash scripts/setup-postgres.sh
	.venv/bin/python -m pytest

dashboard: setup
	.venv/bin/toolkit dashboard $(STUDY)

clean-store:
	rm -rf $(STUDY)/store
