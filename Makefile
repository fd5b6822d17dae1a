# `make check` is what CI runs (.ci/run): lint, formatting, strict types, then the tests.
PYTHON ?= python

.PHONY: install lint types test check bench golden sample-report

install:
	$(PYTHON) -m pip install --quiet -e '.[test]'

lint:
	$(PYTHON) -m ruff check convcost tests
	$(PYTHON) -m ruff format --check convcost tests

types:
	$(PYTHON) -m mypy --strict convcost

# The README's test command. pytest exits 5 when it collects nothing: that fails too.
test:
	$(PYTHON) -m pytest -q

check: install lint types test

golden:
	$(PYTHON) -m pytest -q tests/test_golden.py tests/test_compare.py -k golden --update-golden

# The README's sample report (generated, never committed: build/ is ignored): open
# build/sample-report.html in a browser. docs/report.md describes each chart.
sample-report:
	mkdir -p build
	$(PYTHON) -m convcost report resnet50 -o build/sample-report.html
