#!/usr/bin/env bash
# Put the Hadoop S3A connector into .jars/ so that a LOCAL Spark can read and write s3a:// (tests against moto).
#
#   bash scripts/fetch_s3a_jars.sh            # idempotent: does nothing when both jars are already there
#   PYTHON=/path/to/venv/bin/python bash scripts/fetch_s3a_jars.sh
#
# Why this detour: the pip pyspark 3.5.x package bundles Hadoop 3.3.4 client jars but no hadoop-aws, and Maven
# Central (where `--packages org.apache.hadoop:hadoop-aws:3.3.4` would fetch it) is unreachable from here and from
# CI. PyPI is reachable, and the sdist of sagemaker-pyspark 1.4.5 (~181 MB) ships hadoop-aws-3.3.1.jar with the
# matching aws-java-sdk-bundle-1.11.901.jar under <sdist>/.../deps/jars/; both work with pyspark 3.5.x.
# Only those two jars are extracted; the download is deleted afterwards.
#
# EMR itself needs none of this: the cluster has its own S3 connector (s3://, s3n:// and s3a:// are all served by
# S3A since emr-7.10) and its instance role for credentials. This is for local end-to-end tests only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
JARS_DIR="$ROOT/.jars"
JARS=(hadoop-aws-3.3.1.jar aws-java-sdk-bundle-1.11.901.jar)
SDIST="sagemaker-pyspark==1.4.5"

missing=()
for jar in "${JARS[@]}"; do
    [[ -s "$JARS_DIR/$jar" ]] || missing+=("$jar")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "S3A jars already in $JARS_DIR: ${JARS[*]} (nothing to do)"
    exit 0
fi

if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    echo "error: no pip for PYTHON=$PYTHON (set PYTHON to the project's venv python)" >&2
    exit 1
fi

mkdir -p "$JARS_DIR"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/fetch-s3a-jars.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "Missing in $JARS_DIR: ${missing[*]}"
echo "Downloading the $SDIST sdist from PyPI (~181 MB, only two jars are kept) with $PYTHON -m pip ..."
"$PYTHON" -m pip download --quiet --no-deps -d "$tmp" "$SDIST"
archive="$(find "$tmp" -maxdepth 1 -name 'sagemaker[-_]pyspark-*.tar.gz' | head -n 1)"
if [[ -z "$archive" ]]; then
    echo "error: pip downloaded no sagemaker-pyspark sdist into $tmp:" >&2
    ls -la "$tmp" >&2
    exit 1
fi

echo "Extracting ${missing[*]} from $(basename "$archive") ..."
patterns=()
for jar in "${missing[@]}"; do
    patterns+=("*/deps/jars/$jar")
done
tar -xzf "$archive" -C "$tmp" --wildcards "${patterns[@]}"
for jar in "${missing[@]}"; do
    found="$(find "$tmp" -type f -path "*/deps/jars/$jar" | head -n 1)"
    if [[ -z "$found" ]]; then
        echo "error: $jar not found in $(basename "$archive")" >&2
        exit 1
    fi
    mv "$found" "$JARS_DIR/$jar.part"
    mv "$JARS_DIR/$jar.part" "$JARS_DIR/$jar"   # atomic: an interrupted run never leaves a truncated jar
    echo "  $JARS_DIR/$jar ($(du -h "$JARS_DIR/$jar" | cut -f1))"
done
echo "Done; removed the download ($tmp)."
