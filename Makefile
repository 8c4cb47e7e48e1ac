# vaebook: `make book` builds the book, `make test` runs every check. Both set themselves up.
PROFILE ?= full
# EDITION=student builds the book without the exercises' solutions (for handing out to students)
EDITION ?= instructor
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: book test unit browser bench setup data clean

## book: set up, execute every chapter (PROFILE=full|quick), validate with nbval, build _build/html
book: setup data
	$(PY) tools/build_book.py --profile $(PROFILE) --edition $(EDITION)

## test: library unit tests, then the quick-profile book (papermill + nbval + HTML build), then the
## browser check of its pages (headless Debian chromium, no network; skipped if chromium is missing)
test: unit
	$(MAKE) --no-print-directory book PROFILE=quick
	$(MAKE) --no-print-directory browser

unit: setup data
	$(PY) -m pytest -q -n 2 tests --ignore=tests/browser

## browser: check the built _build/html in headless chromium (needs chromium and chromium-driver)
browser: setup
	$(PY) -m pytest -q tests/browser

## bench: measure training speed against the seed's Keras 2 code, scaling and the book's build time;
## writes bench/results.json and book/performance.md (BENCH_ARGS=--quick for a smoke run, --skip-book)
bench: setup data
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/benchmark.py $(BENCH_ARGS)

## setup: a virtual environment in .venv with vaelib and the book tools (redone when pyproject.toml changes)
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[book,test]'
	touch $@

## data: make sure Fashion-MNIST is here (installs Debian's dataset-fashion-mnist when it can)
data: setup
	@$(PY) -m vaelib.data >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's dataset-fashion-mnist ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	  fi; }
	@$(PY) -m vaelib.data

clean:
	rm -rf _build runs
