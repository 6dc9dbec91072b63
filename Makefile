# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.12
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test demo lint bench clean enforce-fuzz fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The durable_rules extra compiles a C extension; where that fails the rest of
# riskrail still installs and the durable-engine tests skip, saying why.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	-$(BIN)/pip install -q -e '.[durable]' || echo "note: durable_rules extra not installed (needs a C compiler)"
	touch $(STAMP)

install: $(STAMP)

test: lint
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider

demo: install
	$(BIN)/riskrail demo

# Longer runs of the enforcement's model-based property tests (`make test` runs a few):
# the reconciler against a model Gateway (2,000 sessions, about a minute) and the daemon
# against the simulator (200 sessions, about ten minutes).
enforce-fuzz: install
	RISKRAIL_FUZZ=1 $(BIN)/python -m pytest -q -p no:cacheprovider -k many_more tests/enforce
	RISKRAIL_FUZZ=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/daemon/test_enforcement_model.py

# A long random run of the validate fuzz target (`make test` runs a short fixed one).
FUZZ_EXAMPLES ?= 2000
fuzz: install
	RISKRAIL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider \
		-n 2 tests/ruleset/test_validate_fuzz.py

bench: install
	$(BIN)/python -m bench

# mypy checks the installed names (riskrail.engine, ...): the editable install maps them
# with an import hook mypy cannot see, so a tree of links lays them out for it.
MYPY_SRC := $(VENV)/mypy-src
lint: install
	$(BIN)/ruff check .
	mkdir -p $(MYPY_SRC)/riskrail
	for d in engine cli sim daemon; do ln -sfn "$(CURDIR)/$$d" $(MYPY_SRC)/riskrail/$$d; done
	ln -sfn "$(CURDIR)/bench" $(MYPY_SRC)/bench
	cd $(MYPY_SRC) && MYPYPATH=. $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml \
		-p riskrail.engine -p riskrail.cli -p riskrail.sim -p riskrail.daemon -p bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
