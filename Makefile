# Two commands for a fresh machine: `make dashboard` and `make test`.
# Both build (or refresh) the local .venv from pyproject.toml first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: dashboard test lint coverage venv bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# The demo project (built on first use) unless MLSTRAT_PROJECT=DIR names another.
dashboard: $(STAMP)
	$(PY) -m mlstrat dashboard $(if $(MLSTRAT_PROJECT),--project "$(MLSTRAT_PROJECT)",)

# In CI (CI=true) the same run reports line coverage and fails below 92% (pytest-cov).
test: $(STAMP)
	$(PY) -m pytest -q $(if $(CI),--cov=mlstrat --cov-report=term:skip-covered --cov-fail-under=92,)

# Static checks (rules and levels in pyproject.toml's [tool.ruff] and [tool.mypy]).
lint: $(STAMP)
	$(PY) -m ruff check mlstrat dashboards tests benchmarks examples
	$(PY) -m mypy mlstrat

# The suite under coverage (line coverage of mlstrat; ~+50% CPU time, so not in `test`).
coverage: $(STAMP)
	$(PY) -m pytest -q --cov=mlstrat --cov-report=term

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
