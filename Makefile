# The two commands: `make demo` and `make test`. Both bootstrap themselves on a
# fresh Debian 12 machine: a .venv with vigil and its dev tools, and (as root)
# the Debian packages the tests and the demo drive for real.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SYSDEPS_STAMP := $(VENV)/.system-deps-stamp

.PHONY: demo test lint typecheck unit venv system-deps bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(SYSDEPS_STAMP): scripts/system-deps.sh | $(STAMP)
	bash scripts/system-deps.sh
	@touch $@

system-deps: $(SYSDEPS_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(SYSDEPS_STAMP)
	$(BIN)/python -m pytest

test: lint typecheck unit

demo: $(STAMP) $(SYSDEPS_STAMP)
	@bash scripts/demo.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
