# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Everything the project needs is installed here, never by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# zarr-python 2 and 3 share the import name `zarr`: zarr 2 lives in its own environment, driven by the tests.
VENV_ZARR2 := .venv-zarr2
PY_ZARR2 := $(VENV_ZARR2)/bin/python
STAMP := $(VENV)/.installed-test
DEMO_STAMP := $(VENV)/.installed
ZARR2_STAMP := $(VENV_ZARR2)/.installed

.PHONY: demo test lint typecheck pytest bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(DEMO_STAMP)

$(ZARR2_STAMP): Makefile
	$(PYTHON) -m venv $(VENV_ZARR2)
	$(PY_ZARR2) -m pip install --quiet --upgrade pip
	$(PY_ZARR2) -m pip install --quiet 'zarr>=2.18,<2.19' lmdb msgpack
	touch $@

demo: $(DEMO_STAMP)
	$(PY) -m zarrlayered demo

lint: $(STAMP)
	$(PY) -m ruff check zarrlayered tests $(wildcard benchmarks)

typecheck: $(STAMP)
	$(PY) -m mypy --strict zarrlayered

pytest: $(STAMP) $(ZARR2_STAMP)
	ZARRLAYERED_TEST_ZARR2_PYTHON=$(CURDIR)/$(PY_ZARR2) $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(VENV_ZARR2) demo.zarr demo.zarr-legacy
