# qexpr: `make demo` and `make test` each work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[train,test,bench,sweep,docs,vision]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/qexpr verify

lint: $(STAMP)
	$(VENV)/bin/ruff check qexpr tests benchmarks
	$(VENV)/bin/ruff format --check qexpr tests benchmarks

# Strict: any warning (broken link, missing reference) fails the build. Run after pytest
# in `make test`, it re-uses the notebook outputs that tests/test_notebooks.py cached.
docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -n -q -b html docs docs/_build/html

test: lint
	QEXPR_HYPOTHESIS_PROFILE=ci $(PY) -m pytest
	$(MAKE) docs

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis docs/_build qexpr-verify-report
