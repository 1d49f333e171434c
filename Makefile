# Two commands on a fresh machine: `make demo` and `make test` (each creates .venv when needed).
# `make test` also builds the documentation site (`make docs`).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,docs]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/supplyseg demo demo-workspace

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The documentation site (mkdocs.yml), built offline with --strict: a broken link, a missing
# snippet or a docstring mkdocstrings cannot render fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint docs
	$(BIN)/pytest

clean:
	rm -rf $(VENV) demo-workspace site .pytest_cache .mypy_cache .ruff_cache .hypothesis
