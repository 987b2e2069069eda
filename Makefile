# grokpaper: `make book` builds the quick-profile book on CPU; `make test` runs the tests.
# VENV can point at an existing environment (e.g. `make test VENV=/path/to/venv`).

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= $(shell command -v python3.11 || command -v python3)
TEST_STORE := $(CURDIR)/build/test-store
NBVAL_DIR := build/nbval

# MNIST from the shared data folder, when there is one (and the caller did not choose another).
MNIST_DIR := $(abspath $(CURDIR)/../shared/data/mnist)
ifneq ($(wildcard $(MNIST_DIR)),)
export GROKPAPER_MNIST ?= $(MNIST_DIR)
endif

.PHONY: setup book test check-site clean

setup: $(STAMP)

# Installs once, and again when pyproject.toml changes. An existing environment that already
# has this checkout and the dev tools installed is only stamped, not reinstalled.
$(STAMP): pyproject.toml
	@if [ ! -x "$(BIN)/python" ]; then \
	  echo "creating $(VENV) with $(PYTHON)"; "$(PYTHON)" -m venv "$(VENV)"; fi
	@if [ ! -e "$@" ] && "$(BIN)/python" -c "import grokpaper, pytest, nbval, sys; \
	  sys.exit(not grokpaper.__file__.startswith('$(CURDIR)/'))" 2>/dev/null \
	  && [ -x "$(BIN)/ruff" ] && [ -x "$(BIN)/grokpaper" ]; then \
	  echo "$(VENV) already has grokpaper (editable) and the dev tools"; \
	else "$(BIN)/python" -m pip install -e ".[dev]"; fi
	@touch "$@"

book: setup
	$(BIN)/grokpaper run --profile quick
	$(BIN)/jupyter-book build book -W -n --keep-going

test: export GROKPAPER_STORE := $(TEST_STORE)
test: setup
	rm -rf "$(TEST_STORE)" "$(NBVAL_DIR)"
	mkdir -p "$(TEST_STORE)"
	$(BIN)/ruff check .
	$(BIN)/grokpaper nbval-prepare --out $(NBVAL_DIR)
	$(BIN)/pytest tests $(NBVAL_DIR) --nbval-lax -p no:cacheprovider

# Every page of the built book in headless Chromium: console errors, broken images, requests
# to outside hosts, Markdown or TeX source left visible; saves build/site/landing.png. Needs a
# Chromium (e.g. apt install chromium).
check-site: setup
	$(BIN)/python -c "import playwright" 2>/dev/null || $(BIN)/python -m pip install -e ".[check]"
	$(BIN)/python scripts/check_site.py book/_build/html --screenshot build/site/landing.png

clean:
	rm -rf build book/_build
	find book -name '*.ipynb' -not -path 'book/_build/*' -delete
	find book -mindepth 1 -type d -empty -delete
