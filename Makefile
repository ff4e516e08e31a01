# The two set-up commands of the README: `make run` and `make test` (a fresh machine needs nothing else).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench eval system-test-deps clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# CPU torch first, from this machine's wheel, so nothing pulls a multi-GB CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[eval,test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/ctn ingest
	$(VENV)/bin/ctn ask "Qual è la dotazione finanziaria dell'avviso del 2012?"

test: install
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(VENV)/bin/ctn bench ingest

eval: install
	$(VENV)/bin/ctn eval

clean:
	rm -rf $(VENV) data .pytest_cache
