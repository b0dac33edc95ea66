# The two commands of the README:
#   make run    set up .venv and run the whole pipeline on the sample study in interviews/
#   make test   set up .venv and run the whole test suite
STUDY ?= interviews

.PHONY: run test setup clean-store

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/toolkit run $(STUDY)

test: setup
	.venv/bin/python -m pytest

clean-store:
	rm -rf $(STUDY)/store
