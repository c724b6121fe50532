#!/bin/bash
# EMR bootstrap action, rendered and uploaded by `fruits-cloud package`. Arguments (s3:// URIs): the project wheel,
# its requirements less what EMR provides (requirements-emr.txt), the project's lock file, and optionally the
# wheelhouse folder (`fruits-cloud wheelhouse`): then everything is installed from the bucket, nothing from PyPI.
# EMR runs it as user hadoop on every node (primary, core, task, and nodes added later) before it installs the
# applications (https://docs.aws.amazon.com/emr/latest/ManagementGuide/emr-plan-bootstrap.html), so EMR's Spark is
# not there yet: nothing here imports pyspark.
set -euxo pipefail
export KEDRO_DISABLE_TELEMETRY=true  # GDPR: nothing leaves the region, not even Kedro's usage analytics

WHEEL_URI="$1"
REQUIREMENTS_URI="$2"
CONSTRAINTS_URI="$3"
WHEELHOUSE_URI="${4:-}"
# emr-7.x ships Python 3.9 and 3.11 (https://docs.aws.amazon.com/emr/latest/ReleaseGuide/emr-release-app-versions-7.x.html);
# Kedro 1.x needs >= 3.10 (numpy 2.4: >= 3.11), so the venv is built on @PYTHON@.
PYTHON="@PYTHON@"
VENV="@VENV@"

command -v "$PYTHON" || { echo "$PYTHON is not on this node: use an emr-7.x release label." >&2; exit 1; }
# On Amazon Linux 2023, `python3.11 -m venv` needs ensurepip, which the python3.11-pip package provides.
"$PYTHON" -c "import ensurepip" 2>/dev/null || sudo dnf install -y -q "$(basename "$PYTHON")-pip"
# No --system-site-packages: the venv holds exactly the locked set, nothing from the system interpreter. PySpark
# is not in it either: spark-submit puts EMR's own pyspark and py4j on the driver's and executors' PYTHONPATH.
sudo "$PYTHON" -m venv "$VENV"

# aws s3 cp keeps the file name, which pip needs (name-version-tags.whl).
WORKDIR="$(mktemp -d)"
aws s3 cp "$WHEEL_URI" "$WORKDIR/"
aws s3 cp "$REQUIREMENTS_URI" "$WORKDIR/requirements.txt"
aws s3 cp "$CONSTRAINTS_URI" "$WORKDIR/constraints.txt"
PIP_SOURCE=()
if [ -n "$WHEELHOUSE_URI" ]; then
  # Wheels resolved for this platform against the lock file: no index, no internet (a private subnet with an S3
  # gateway endpoint is enough).
  aws s3 cp --recursive --quiet "$WHEELHOUSE_URI" "$WORKDIR/wheelhouse/"
  PIP_SOURCE=(--no-index --find-links "$WORKDIR/wheelhouse")
fi
pip_install() {
  sudo "$VENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check --quiet "${PIP_SOURCE[@]}" "$@"
}
[ -n "$WHEELHOUSE_URI" ] || pip_install --upgrade pip
# The wheel's requirements (no pyspark/py4j) at the lock file's versions, then the wheel itself without its
# dependencies (they include pyspark==3.5.6 for local runs).
pip_install --requirement "$WORKDIR/requirements.txt" --constraint "$WORKDIR/constraints.txt"
pip_install --no-deps "$WORKDIR"/*.whl
"$VENV/bin/python" - <<'CHECK'
import importlib.util
import sys

import @PACKAGE@

if importlib.util.find_spec("pyspark") is not None:
    sys.exit("pyspark from PyPI is in the venv: it would shadow EMR's Spark build.")
print("@PACKAGE@ ready on Python", sys.version)
CHECK
rm -rf "$WORKDIR"
