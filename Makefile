# Two commands from a fresh clone:  `make run` (set up + run the pipeline)  and  `make test` (set up + all tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := true


.PHONY: setup run test test-fast test-unit lint s3a-jars viz bench clean

$(BIN)/.installed: pyproject.toml requirements.lock
	scripts/setup_system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $@

setup: $(BIN)/.installed

# Idempotent: the script names the jars and does nothing when they are there.
s3a-jars: setup
	PYTHON=$(BIN)/python scripts/fetch_s3a_jars.sh

run: setup
	scripts/local_weights.sh
	$(BIN)/kedro run

test: lint s3a-jars
	$(BIN)/pytest -m "slow or not slow"

test-fast: setup
	$(BIN)/pytest

# The unit tier: no Spark, moto, TensorFlow, real weights or subprocess (tests/conftest.py marks and guards it).
test-unit: setup
	$(BIN)/pytest -m unit

lint: setup
	$(BIN)/ruff check .

viz: setup
	$(BIN)/kedro viz run

bench: setup
	$(BIN)/python -m bench.featurization_bench $(ARGS)

# Removes every run, the pointer and the model cache (the embedded images stay), builds and the S3A jars.
clean:
	rm -rf data/runs data/current.json data/model_cache build dist .jars
