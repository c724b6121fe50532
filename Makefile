# Two commands from a fresh clone:  `make run` (set up + run the pipeline)  and  `make test` (set up + all tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := true


.PHONY: setup run test test-fast test-unit lint viz bench clean

$(BIN)/.installed: pyproject.toml requirements.lock
	scripts/setup_system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $@

# Spark's JVM dependencies (Delta Lake, the S3A connector) from Maven Central, once, into the .jars/ cache.
.jars/.fetched: scripts/maven-jars.txt
	scripts/fetch_jars.sh
	touch $@

# The classes a local Spark JVM loads, dumped once into a class archive that conf/local/spark.yml maps at each start.
.jars/spark-classes.jsa: $(BIN)/.installed .jars/.fetched scripts/spark_class_archive.py
	$(BIN)/python scripts/spark_class_archive.py $@

setup: $(BIN)/.installed .jars/.fetched .jars/spark-classes.jsa

run: setup
	scripts/local_weights.sh
	$(BIN)/kedro run

test: lint
	scripts/setup_browser.sh
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

# Ray Data and Daft, for the benchmark only, in a venv of their own (bench/frameworks.txt says why).
bench/.venv/.installed: bench/frameworks.txt
	test -x bench/.venv/bin/python || $(PYTHON) -m venv bench/.venv
	bench/.venv/bin/python -m pip install --quiet -r bench/frameworks.txt
	touch $@

bench: setup bench/.venv/.installed
	$(BIN)/python -m bench.featurization_bench $(ARGS)

# Removes every run, the pointer and the model cache (the embedded images stay), builds and the jars.
clean:
	rm -rf data/runs data/current.json data/model_cache build dist .jars
