# Two commands: `make demo` and `make test`. Everything the project needs is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck unit fuzz bench clean chromium

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("IDDS needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,fuzz]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/idds demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy --strict src

# The console's browser tests drive Debian's Chromium (never a downloaded browser): installed
# here where it is missing (as root, or with sudo).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }; }

unit: $(VENV)/.installed-test chromium
	$(BIN)/pytest

# Coverage-guided fuzzing with atheris: 100,000 inputs per target (IDDS_FUZZ_LONG=1: long run).
fuzz: $(VENV)/.installed-test
	$(BIN)/python fuzz/run_fuzz.py

test: lint typecheck unit fuzz

bench: $(VENV)/.installed-test
	@for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build src/*.egg-info .mypy_cache .pytest_cache .ruff_cache
