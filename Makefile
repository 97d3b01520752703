# riskmodel — `make demo` and `make test` set everything up on a fresh machine.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCENARIO ?= data/scenarios/usmca_2019.yaml

.PHONY: demo test test-long lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@PY=$$(scripts/find-python.sh) || exit 1; \
	if [ ! -x $(BIN)/python ]; then echo "Creating $(VENV) with $$PY"; "$$PY" -m venv $(VENV) || exit 1; fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@# compile the numba kernels into their cache once per installation, and the bundled scenario's
	@# forward draws at the default size into riskmodel's (~/.cache/riskmodel): a first run is then warm
	@tmp=$$(mktemp -d) && $(BIN)/python -m riskmodel run $(SCENARIO) --out $$tmp > /dev/null \
		&& $(BIN)/python -m riskmodel sensitivity $(SCENARIO) --worlds 200 --out $$tmp > /dev/null \
		&& $(BIN)/python -m riskmodel.engine.prime --draw-statistics; rm -rf $$tmp
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
	$(BIN)/pytest -q -m "not long"

test: lint typecheck unit

# the long forms of studies whose short forms `make test` runs (1,500-mutant fuzzing, 22 kills ...)
test-long: $(STAMP)
	scripts/install-system-deps.sh
	$(BIN)/pytest -q -m long

# `make bench`: every benchmark, short forms (minutes). `make bench LONG=1`: the full shapes
# (the 109th House IRT fit, 10^6-deal win-set map ...). BASE=/path/to/old/checkout adds the
# same commands on that checkout as a same-run baseline.
bench: $(STAMP)
	$(BIN)/python benchmarks/startup.py $(if $(LONG),,--quick) $(if $(BASE),--base $(BASE))
	$(BIN)/python benchmarks/engine.py $(if $(LONG),,--quick)
	$(BIN)/python benchmarks/winset.py $(if $(LONG),,--quick)
	$(BIN)/python benchmarks/stress.py $(if $(LONG),,--quick)
	$(BIN)/python benchmarks/sensitivity.py $(if $(LONG),--repeat 5,--repeat 1) $(if $(BASE),--baseline $(BASE))
	$(BIN)/python benchmarks/irt.py $(if $(LONG),,--quick) $(if $(BASE),--base $(BASE))
	$(BIN)/python benchmarks/grid.py $(if $(LONG),--dask 100,--quick) $(if $(BASE),--baseline $(BASE))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
