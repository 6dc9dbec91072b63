# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.12
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test rule-tests test-shifted-clock test-reset-crossing faketime chromium demo docs lint bench clean enforce-fuzz fuzz soak

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The durable_rules extra compiles a C extension; where that fails the rest of
# riskrail still installs and the durable-engine tests skip, saying why. pip's output
# (setuptools' build warnings about the editable install) goes to a log, shown when the
# install fails.
INSTALL_LOG := $(VENV)/install.log
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing riskrail into $(VENV) (pip's output: $(INSTALL_LOG))"
	@$(BIN)/pip install -q -e '.[test]' >$(INSTALL_LOG) 2>&1 || { cat $(INSTALL_LOG); exit 1; }
	@$(BIN)/pip install -q -e '.[durable]' >>$(INSTALL_LOG) 2>&1 || \
		echo "note: durable_rules extra not installed (needs a C compiler; see $(INSTALL_LOG))"
	@touch $(STAMP)

install: $(STAMP)

test: lint faketime chromium rule-tests
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider
	$(BIN)/python tests/shifted_clock/run.py

# The rule tests (*.test.yaml) beside the shipped rulesets, as a risk officer runs them
# (rulesets/ and below: the standard ruleset, examples/ and presets/), on both engines.
# A folder of rulesets added to the repository gets its tests listed here.
RULE_TESTS ?= rulesets
rule-tests: install
	$(BIN)/riskrail test $(RULE_TESTS)
	$(BIN)/riskrail test --engine durable $(RULE_TESTS)

# The suite again with the clock of every process shifted by libfaketime to instants far
# from today: a year ahead, a Saturday, a daylight-saving Sunday, 16:59 and 17:01 Chicago
# (tests/shifted_clock/run.py). ARGS are the runner's: `--at saturday -- -q tests/daemon`.
test-shifted-clock: install faketime
	$(BIN)/python tests/shifted_clock/run.py $(ARGS)

# Every test of the shorter shifted runs started 1-8 s before 17:00 Chicago, so that each
# runs across the trading-day reset (one process, about 10 minutes; not in `make test`).
test-reset-crossing: install faketime
	$(BIN)/python tests/shifted_clock/run.py --cross-reset $(ARGS)

# Chromium (Debian's package) for the browser test of the dry-run's HTML report
# (tests/workbench/test_report_browser.py starts it headless): apt-get installs it when
# it is missing; where it cannot, the test skips, saying why (RISKRAIL_CHROMIUM names
# another binary).
chromium:
	@if [ -n "$$RISKRAIL_CHROMIUM" ] && [ -x "$$RISKRAIL_CHROMIUM" ]; then exit 0; fi; \
	if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "note: chromium is missing and there is no apt-get here: the report's browser" \
			"test will skip (install chromium, or set RISKRAIL_CHROMIUM)" >&2; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	echo "installing chromium (apt-get) for the report's browser test"; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
		chromium >/dev/null || echo "note: apt-get could not install chromium: the" \
			"report's browser test will skip" >&2

# libfaketime (Debian's package) for the shifted-clock run: apt-get installs it when it
# is missing (as root, or through sudo); nothing else can stand in for it, so a machine
# where it cannot be installed fails here, saying so.
FAKETIME_LIB := /usr/lib/*/faketime/libfaketime.so.1
faketime:
	@if [ -n "$$LIBFAKETIME" ] && [ -e "$$LIBFAKETIME" ]; then exit 0; fi; \
	if ls $(FAKETIME_LIB) >/dev/null 2>&1; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "error: libfaketime is missing and there is no apt-get here: install libfaketime" \
			"(or set LIBFAKETIME=/path/to/libfaketime.so.1) for the shifted-clock tests" >&2; \
		exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	echo "installing libfaketime (apt-get) for the shifted-clock tests"; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
		libfaketime >/dev/null || { echo "error: apt-get could not install libfaketime" >&2; \
		exit 1; }; \
	ls $(FAKETIME_LIB) >/dev/null 2>&1 || { echo "error: libfaketime installed but" \
		"$(FAKETIME_LIB) is not there" >&2; exit 1; }

demo: install
	$(BIN)/riskrail demo

# docs/reference.md from the code's own definitions (a test fails when it is not current).
docs: install
	$(BIN)/riskrail docs --output docs/reference.md

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

# The reference-ledger properties (tests/reference) with many more generated Gateway
# streams than `make test` runs (80 per property there), and many more live sessions of
# the daemon against the simulator (5 there).
SOAK_EXAMPLES ?= 3000
SOAK_LIVE ?= 200
soak: install
	RISKRAIL_LEDGER_EXAMPLES=$(SOAK_EXAMPLES) RISKRAIL_LIVE_EXAMPLES=$(SOAK_LIVE) \
		$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 tests/reference \
		tests/network/test_bad_lines_property.py tests/daemon/test_ledger_live.py

bench: install
	$(BIN)/python -m bench
	$(BIN)/python -m bench --rulesets

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
