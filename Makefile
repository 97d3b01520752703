# riskmodel — `make demo` and `make test` set everything up on a fresh machine.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCENARIO ?= data/scenarios/usmca_2019.yaml

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@PY=$$(scripts/find-python.sh) || exit 1; \
	if [ ! -x $(BIN)/python ]; then echo "Creating $(VENV) with $$PY"; "$$PY" -m venv $(VENV) || exit 1; fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	scripts/install-system-deps.sh runtime
	$(BIN)/riskmodel run $(SCENARIO) --out reports/usmca_2019 --report

lint: $(STAMP)
	$(BIN)/ruff format --check riskmodel tests benchmarks
	$(BIN)/ruff check riskmodel tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	scripts/install-system-deps.sh
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
