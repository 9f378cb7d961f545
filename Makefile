# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/baseline.yaml

.PHONY: run test seeds mutation lint bench clean

$(BIN)/cartsim: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(BIN)/cartsim
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/cartsim
	$(BIN)/cartsim run $(SCENARIO)

# worksteal: a worker left idle takes tests queued for the other (the long ones end unevenly)
test: $(VENV)/.dev
	$(BIN)/python -m pytest -n 2 --dist worksteal -q

# the statistical tests on ten seeds: each must pass for any seed
seeds: $(VENV)/.dev
	for s in 1 2 3 4 5 6 7 8 9 10; do \
	  CARTSIM_TEST_SEED=$$s $(BIN)/python -m pytest -q -p no:cacheprovider -m statistical \
	    tests/unit tests/validation tests/functional || exit 1; \
	done

# kill score of sampled one-line mutants of the core modules
mutation: $(VENV)/.dev
	$(BIN)/python benchmarks/mutation.py --per-module 8 --seed 1

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

bench: $(BIN)/cartsim
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
