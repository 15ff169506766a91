# Each target does its own setup; .venv is rebuilt only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,test]"
	touch $(STAMP)

run: install
	$(BIN)/compute-gap report --out reports/latest
	@echo "Open $(CURDIR)/reports/latest/report.html (Markdown: reports/latest/report.md)"

test: install
	$(BIN)/python -m pytest -q --benchmark-disable

bench: install
	$(BIN)/python -m pytest benchmarks -q --benchmark-only --benchmark-autosave --benchmark-storage=.benchmarks

# ruff, then the layer contract of pyproject.toml ([tool.importlinter]; see docs/DESIGN.md).
lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks .hypothesis .import_linter_cache .grimp_cache
