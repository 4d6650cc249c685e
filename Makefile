# The two commands a newcomer needs: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Installs come from hashed locks compiled from pyproject.toml by pip-tools, never from a fresh
# resolution: requirements.txt is what the service runs with (`make run`), requirements-dev.txt
# the same pins plus the dev tools (`make install`, `make test`, ...). Both also pin setuptools,
# the build backend, so the editable install of the project resolves and downloads nothing.
LOCK := requirements.txt
DEV_LOCK := requirements-dev.txt
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
LOCK_CHECK_DIR := $(VENV)/lock-check

.PHONY: install run test lint typecheck check schema bench fuzz clean lock lock-upgrade lock-check

# $(1): the lock to install. Editing a lock (or pyproject.toml) makes the next target reinstall.
define install_from
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(1)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
endef

$(RUN_STAMP): $(LOCK) pyproject.toml
	$(call install_from,$(LOCK))
	touch $@

# The dev lock holds every pin of the run lock (it is compiled against it), so installing it
# satisfies `make run` too: no second install when `make run` follows `make install`.
$(DEV_STAMP): $(DEV_LOCK) pyproject.toml
	$(call install_from,$(DEV_LOCK))
	touch $@ $(RUN_STAMP)

install: $(DEV_STAMP)

# `make run PORT=8080 HOST=0.0.0.0` or `PORT=8080 make run` serves elsewhere (the command line
# wins over the environment).
HOST ?= 127.0.0.1
BENCH_QUICK ?=
PORT ?= 8000
run: $(RUN_STAMP)
	$(BIN)/aftersales serve --host $(HOST) --port $(PORT)

test: $(DEV_STAMP)
	$(BIN)/pytest

# The fuzz tests run bounded (40 examples each) in `make test`; this runs them long.
fuzz: $(DEV_STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/fuzz

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

check: lint typecheck test

schema: $(DEV_STAMP)
	$(BIN)/python -m api.export_schema > schema.graphql

# Needs PostgreSQL (BENCH_POSTGRES_URL, the admin connection: default
# postgres://postgres@127.0.0.1:5432/postgres) and wrk, installed here when missing.
# `make bench BENCH_QUICK=1` is a short smoke run (100k rows instead of 1M, 5 s runs).
bench: $(DEV_STAMP)
	sh bench/setup.sh
	BENCH_QUICK=$(BENCH_QUICK) $(BIN)/python -m bench

# pip-compile as `make lock` runs it. Existing pins are kept unless pyproject.toml rules them out.
# No index or find-links lines are written, so the locks name no machine's package sources.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --allow-unsafe \
	--strip-extras --build-deps-for=editable --no-emit-index-url --no-emit-find-links \
	--no-emit-trusted-host
# $(1): where to write the run lock, $(2): the dev lock, $(3): more pip-compile options. The dev
# lock is constrained by the run lock, so `make run` and `make test` use the very same versions.
define compile_locks
	$(PIP_COMPILE) $(3) --output-file=$(1) pyproject.toml
	$(PIP_COMPILE) $(3) --extra=dev --constraint=$(1) --output-file=$(2) pyproject.toml
endef

# Refresh both locks after changing dependencies in pyproject.toml (keeps every other pin).
lock: $(DEV_STAMP)
	$(call compile_locks,$(LOCK),$(DEV_LOCK),--generate-hashes)

# Move every pin to the newest release that pyproject.toml allows.
lock-upgrade: $(DEV_STAMP)
	$(call compile_locks,$(LOCK),$(DEV_LOCK),--generate-hashes --upgrade)

# CI: recompile copies of the locks (keeping their pins) and compare the pins, ignoring comments
# and hashes (a wheel uploaded later for a pinned release is not a change here). Any difference
# means pyproject.toml's dependencies changed and nobody ran `make lock`.
LOCK_PINS = sed -e 's/[[:space:]]*\#.*//' -e 's/[[:space:]]*\\$$//' -e 's/^[[:space:]]*//' \
	-e '/^--hash=/d' -e '/^$$/d'
lock-check: $(DEV_STAMP)
	@rm -rf $(LOCK_CHECK_DIR) && mkdir -p $(LOCK_CHECK_DIR)
	@cp $(LOCK) $(DEV_LOCK) $(LOCK_CHECK_DIR)/
	$(call compile_locks,$(LOCK_CHECK_DIR)/$(LOCK),$(LOCK_CHECK_DIR)/$(DEV_LOCK),--no-annotate)
	@stale=; for f in $(LOCK) $(DEV_LOCK); do \
	  $(LOCK_PINS) $$f > $(LOCK_CHECK_DIR)/$$f.committed; \
	  $(LOCK_PINS) $(LOCK_CHECK_DIR)/$$f > $(LOCK_CHECK_DIR)/$$f.needed; \
	  diff -u --label "$$f (committed)" --label "$$f (what pyproject.toml needs now)" \
	    $(LOCK_CHECK_DIR)/$$f.committed $(LOCK_CHECK_DIR)/$$f.needed || stale="$$stale $$f"; \
	done; \
	if [ -n "$$stale" ]; then \
	  echo "error: stale lock file(s):$$stale. pyproject.toml's dependencies changed since" \
	    "they were compiled. Run \`make lock\` and commit $(LOCK) and $(DEV_LOCK)." >&2; \
	  exit 1; \
	fi; \
	echo "$(LOCK) and $(DEV_LOCK) match pyproject.toml."

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
