# grokpaper: `make book` builds the quick-profile book on CPU; `make test` runs the tests.
# VENV can point at an existing environment (e.g. `make test VENV=/path/to/venv`); an active
# conda environment named grokpaper (environment.yml) is used as it is.

ifeq ($(CONDA_DEFAULT_ENV),grokpaper)
VENV ?= $(CONDA_PREFIX)
endif
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STORE := $(CURDIR)/build/test-store
NBVAL_DIR := build/nbval

# The interpreter that creates $(VENV): python3 when it is a tested version (3.11-3.13), else
# the newest tested python3.X on PATH, else python3 as it is (setup then warns or stops).
TESTED_PYTHONS := 3.13 3.12 3.11
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python3 $(addprefix python,$(TESTED_PYTHONS)); do \
  $$p -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] not in "$(TESTED_PYTHONS)".split())' \
  2>/dev/null && { command -v $$p; exit; }; done; command -v python3)
endif

# Which torch build setup installs; the versions are pyproject.toml's pins either way.
#   cpu   CPU-only wheels from TORCH_CPU_INDEX: a ~1.7 GB environment instead of ~6.2 GB.
#   pypi  PyPI's wheels: on Linux x86-64 the CUDA build (3.2 GB of NVIDIA libraries; needs an
#         NVIDIA driver for CUDA 13 to use a GPU, and runs on a CPU without one).
#   auto  cpu on Linux x86-64 without an NVIDIA driver (no nvidia-smi) when TORCH_CPU_INDEX
#         answers; else pypi (e.g. offline machines with a local PyPI mirror, like CI's).
TORCH ?= auto
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

# Unit tests under other Pythons (`make test-pythons`): one environment per version under
# PYENVS, made by `make setup` from python3.X on PATH or pyenv's newest 3.X.
PYTHONS ?= 3.12 3.13
PYENVS ?= .venvs

# MNIST from the shared data folder, when there is one (and the caller did not choose another).
MNIST_DIR := $(abspath $(CURDIR)/../shared/data/mnist)
ifneq ($(wildcard $(MNIST_DIR)),)
export GROKPAPER_MNIST ?= $(MNIST_DIR)
endif

# The shape run (`make shape`, CI runs it after `make test`): every notebook at the paper
# profile's grids, sizes, seeds, widths and data with each step budget capped at SHAPE_STEPS,
# into build/shape/ (a scratch book and store, never book/ or your store); it catches the
# crashes and the memory that only the full grids have. SHAPE_HEAVY, run by `make shape-heavy`,
# are the pages whose shape run alone takes hours on 2 CPU cores, more than CI has next to
# `make test`: even at 3 steps, Li & Sakib's pages evaluate every pair up to p = 997 and whole
# loss landscapes (3.3e13 to 1.7e14 FLOPs a page, 10-52 min predicted on 2 idle cores;
# BENCHMARKS.md, "Shape run"); mnist/lisakib_variants compares with Table 1's runs, so it goes
# with them (it would train the whole sweep). Liu's Fig. 7 pages (4 and 9 min measured on 2
# cores) run in `make shape`.
SHAPE_STEPS ?= 3
SHAPE_HEAVY ?= lisakib/fig5_landscape lisakib/table1_sweep lisakib/table2_batch_size \
  mnist/lisakib_variants
SHAPE_DIR := build/shape/paper-$(SHAPE_STEPS)-steps
SHAPE_ALL = $(shell $(BIN)/grokpaper list | cut -d' ' -f1)

.PHONY: setup book test test-pythons check-site clean shape shape-heavy

setup: $(STAMP)

# Installs once, and again when pyproject.toml changes. An existing environment that already
# has this checkout and the dev tools installed is only stamped, not reinstalled (to switch
# TORCH, remove the environment first). TORCH=cpu takes only torch and torchvision from its
# index (--no-deps); their dependencies then come from PyPI with everything else.
$(STAMP): pyproject.toml
	@if [ ! -x "$(BIN)/python" ]; then \
	  [ -n "$(PYTHON)" ] || { echo "no python3 found: set PYTHON=/path/to/python3.X" >&2; exit 1; }; \
	  "$(PYTHON)" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	    echo "grokpaper needs Python >= 3.11 (tested: $(TESTED_PYTHONS)); $(PYTHON) is older:" \
	      "set PYTHON=/path/to/python3.X" >&2; exit 1; }; \
	  "$(PYTHON)" -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] not in "$(TESTED_PYTHONS)".split())' \
	    || echo "warning: $(PYTHON) is not a tested Python ($(TESTED_PYTHONS))" >&2; \
	  echo "creating $(VENV) with $(PYTHON)"; "$(PYTHON)" -m venv "$(VENV)"; fi
	@if [ ! -e "$@" ] && "$(BIN)/python" -c "import grokpaper, pytest, nbval, sys; \
	  sys.exit(not grokpaper.__file__.startswith('$(CURDIR)/'))" 2>/dev/null \
	  && [ -x "$(BIN)/ruff" ] && [ -x "$(BIN)/grokpaper" ]; then \
	  echo "$(VENV) already has grokpaper (editable) and the dev tools"; \
	else \
	  torch="$(TORCH)"; \
	  if [ "$$torch" = auto ]; then \
	    if [ "$$(uname -sm)" = "Linux x86_64" ] && ! nvidia-smi -L >/dev/null 2>&1 \
	      && "$(BIN)/python" -c "import urllib.request as u; \
	           u.urlopen(u.Request('$(TORCH_CPU_INDEX)/torch/', method='HEAD'), timeout=10)" \
	           2>/dev/null; then torch=cpu; else torch=pypi; fi; \
	    echo "TORCH=auto: installing the $$torch build of torch (make setup TORCH=cpu|pypi)"; \
	  fi; \
	  if [ "$$torch" = cpu ]; then \
	    pins=$$("$(BIN)/python" -c "import tomllib; \
	      deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
	      print(*[d for d in deps if d.split('=')[0] in ('torch', 'torchvision')])"); \
	    "$(BIN)/python" -m pip install --no-deps --index-url "$(TORCH_CPU_INDEX)" $$pins \
	      || exit 1; \
	  elif [ "$$torch" != pypi ]; then echo "TORCH must be cpu, pypi or auto" >&2; exit 1; fi; \
	  "$(BIN)/python" -m pip install -e ".[dev]" || exit 1; \
	fi
	@"$(BIN)/python" -c "import torch, torchvision; print('torch', torch.__version__, \
	  '(CUDA ' + str(torch.version.cuda) + ')', 'torchvision', torchvision.__version__)"
	@touch "$@"

# MNIST is fetched once (into data/mnist, checksums verified) when none is found and the
# machine is online; offline, the MNIST chapters become pages that say they were not run.
book: setup
	$(BIN)/grokpaper fetch mnist --if-missing
	$(BIN)/grokpaper run --profile quick
	$(BIN)/jupyter-book build book -W -n --keep-going

test: export GROKPAPER_STORE := $(TEST_STORE)
test: setup
	rm -rf "$(TEST_STORE)" "$(NBVAL_DIR)"
	mkdir -p "$(TEST_STORE)"
	$(BIN)/ruff check .
	$(BIN)/grokpaper nbval-prepare --out $(NBVAL_DIR)
	$(BIN)/pytest tests $(NBVAL_DIR) --nbval-lax -p no:cacheprovider

shape: setup
	rm -rf "$(SHAPE_DIR)"
	$(BIN)/grokpaper run --profile paper --max-steps $(SHAPE_STEPS) --quiet \
	  $(filter-out $(SHAPE_HEAVY),$(SHAPE_ALL))

shape-heavy: setup
	rm -rf "$(SHAPE_DIR)"
	$(BIN)/grokpaper run --profile paper --max-steps $(SHAPE_STEPS) --quiet $(SHAPE_HEAVY)

# The unit tests under each of PYTHONS (the full suite under one: `make test VENV=.venvs/3.12
# PYTHON=python3.12`). Each environment is installed once, like .venv.
test-pythons:
	@for v in $(PYTHONS); do \
	  py=$$(command -v python$$v); "$$py" -V >/dev/null 2>&1 || py=$$(ls -d \
	    "$$(pyenv root 2>/dev/null || echo "$$HOME/.pyenv")"/versions/$$v*/bin/python$$v \
	    2>/dev/null | sort -V | tail -n 1); \
	  [ -n "$$py" ] || { echo "no python$$v on PATH or in pyenv" >&2; exit 1; }; \
	  $(MAKE) --no-print-directory setup VENV="$(PYENVS)/$$v" PYTHON="$$py" || exit 1; \
	  echo "== unit tests, Python $$v ($(PYENVS)/$$v)"; \
	  rm -rf "$(TEST_STORE)-$$v"; \
	  GROKPAPER_STORE="$(TEST_STORE)-$$v" "$(PYENVS)/$$v/bin/pytest" tests -p no:cacheprovider \
	    || exit 1; \
	done

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
