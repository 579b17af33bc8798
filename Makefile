# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out
SEED   ?= 7
HOSTS  ?= 60

.PHONY: venv demo demo-sites test lint typecheck check lab-down bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev,pdf,postgres]'
	touch $(STAMP)

# Starts the lab in its own network namespace, audits it from inside, writes the report.
demo: venv
	bash scripts/demo.sh "$(OUT)" "$(SEED)" "$(HOSTS)"

# Three lab sites on the machine's RabbitMQ and PostgreSQL, a sensor each and an ingest worker (docs/deployment.md).
demo-sites: venv
	bash scripts/demo-sites.sh "$(OUT)-sites"

test: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n 2 --dist loadgroup -q

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: venv
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

lab-down: venv
	$(BIN)/trueorigin lab down || true

bench: venv
	$(BIN)/python bench/scan_vs_nmap.py
	$(BIN)/python bench/screen.py
	$(BIN)/python bench/serve.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
