# The two set-up commands: `make demo` and `make test` create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= .demo

.PHONY: install test lint typecheck pytest demo bench mutate mutate-survivors mutate-score clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

# the suite on every core (pytest-xdist; worksteal keeps the long kill trials from
# holding one worker's queue). PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
pytest: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

test: lint typecheck pytest

demo: $(STAMP)
	$(BIN)/tracker demo $(DEMO_DIR)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Mutation testing (docs/mutation.md): slow, never in CI nor in `make test`. Results are
# cached in mutants/ (a rerun checks only new or changed functions); one module:
# make mutate MUTANTS='tracker.periods.*'. MUTATE_CHILDREN: parallel mutants.
MUTATE_CHILDREN ?= 1
MUTANTS ?=
MUTATE_STAMP := $(VENV)/.mutate-installed

$(MUTATE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutate]'
	touch $(MUTATE_STAMP)

mutate: $(MUTATE_STAMP)
	@test -n "$$TRACKER_TEST_DATABASE_URL" || echo "warning: TRACKER_TEST_DATABASE_URL is" \
		"not set: the PostgreSQL-only writer code has no tests (docs/mutation.md)" >&2
	nice -n 19 $(BIN)/mutmut run --max-children $(MUTATE_CHILDREN) $(MUTANTS)
	$(BIN)/python -m tests.mutation_score --survivors

# the mutants not killed last time, again by name (after new tests)
mutate-survivors: $(MUTATE_STAMP)
	@names="$$($(BIN)/python -m tests.mutation_score --names)"; \
	if [ -z "$$names" ]; then echo "no surviving mutants to re-run"; \
	else $(MAKE) mutate MUTANTS="$$names"; fi

mutate-score:
	$(BIN)/python -m tests.mutation_score --survivors

clean:
	rm -rf $(VENV) $(DEMO_DIR) .mypy_cache .pytest_cache .ruff_cache mutants
