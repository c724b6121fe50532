#!/bin/bash
# EMR bootstrap action, rendered and uploaded by `fruits-cloud package`; argument 1: the project wheel's s3:// URI.
# EMR runs it as user hadoop on every node (primary, core, task, and nodes added later) before Spark starts.
# EMR 7's default python3 is 3.9 and Kedro needs >= 3.10, so the project gets its own @PYTHON@ venv; the
# cluster's spark-env points PYSPARK_PYTHON (driver and executors) at it.
set -euxo pipefail

WHEEL_URI="$1"
VENV="@VENV@"

sudo dnf install -y @PYTHON@ @PYTHON@-pip
sudo @PYTHON@ -m venv "$VENV"
sudo "$VENV/bin/python" -m pip install --quiet --upgrade pip

# aws s3 cp keeps the file name, which pip needs (name-version-tags.whl).
WORKDIR="$(mktemp -d)"
aws s3 cp "$WHEEL_URI" "$WORKDIR/"
# The wheel's dependencies include pyspark; spark-submit puts EMR's own pyspark first on PYTHONPATH, so
# the cluster's Spark build is the one that runs.
sudo "$VENV/bin/python" -m pip install --quiet "$WORKDIR"/*.whl
"$VENV/bin/python" -c "import @PACKAGE@, sys; print('@PACKAGE@ ready on Python', sys.version)"
