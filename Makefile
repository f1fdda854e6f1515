# qexpr: `make demo` and `make test` each work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[train,test,bench,sweep]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/qexpr count-pieces --kind quadratic --widths 1,4,4,1 --seed 0

lint: $(STAMP)
	$(VENV)/bin/ruff check qexpr tests benchmarks
	$(VENV)/bin/ruff format --check qexpr tests benchmarks

test: lint
	QEXPR_HYPOTHESIS_PROFILE=ci $(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
