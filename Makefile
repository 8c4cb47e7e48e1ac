# vaebook: `make book` builds the book, `make test` runs every check. Both set themselves up.
PROFILE ?= full
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: book test unit setup data clean

## book: set up, execute every chapter (PROFILE=full|quick), validate with nbval, build _build/html
book: setup data
	$(PY) tools/build_book.py --profile $(PROFILE)

## test: library unit tests, then the quick-profile book (papermill + nbval + HTML build)
test: unit
	$(MAKE) --no-print-directory book PROFILE=quick

unit: setup data
	$(PY) -m pytest -q tests

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
