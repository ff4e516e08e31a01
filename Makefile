# The two set-up commands of the README: `make run` and `make test` (a fresh machine needs nothing else).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench eval system-deps system-test-deps clean

# What ingest needs from Debian: Tesseract and its Italian and English models, for scanned PDF pages.
APT_PACKAGES := tesseract-ocr tesseract-ocr-ita tesseract-ocr-eng

# What the browser tests need from Debian (never `playwright install`: nothing is downloaded at run time).
APT_TEST_PACKAGES := chromium fonts-dejavu-core postgresql

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# CPU torch first, from this machine's wheel, so nothing pulls a multi-GB CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[eval,test]'
	touch $(STAMP)

install: $(STAMP)

run: install system-deps
	# Ingests corpus/ first when the store is empty, then serves the API (/v1) and the UI (/ui).
	$(VENV)/bin/ctn serve --host $(HOST) --port $(PORT)

system-deps:
	@if ! command -v tesseract >/dev/null 2>&1 || [ ! -f /usr/share/tesseract-ocr/5/tessdata/ita.traineddata ]; then \
		echo "installing $(APT_PACKAGES) with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

system-test-deps: system-deps
	@if ! command -v chromium >/dev/null 2>&1 || [ ! -d /usr/share/fonts/truetype/dejavu ] \
		|| ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing $(APT_TEST_PACKAGES) with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_TEST_PACKAGES) >/dev/null; \
	fi

test: install system-test-deps
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(VENV)/bin/ctn bench ingest

eval: install
	$(VENV)/bin/ctn eval

clean:
	rm -rf $(VENV) data .pytest_cache
