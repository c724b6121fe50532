#!/usr/bin/env bash
# System prerequisites that pip cannot install. Idempotent; called by `make setup`.
#  - Java 17 (Spark 3.5 runs on 8/11/17): required.
#  - Maven: fetches Spark's JVM dependencies (Delta Lake, S3A) from Maven Central once (scripts/fetch_jars.sh).
#  - A native BLAS/LAPACK (OpenBLAS): optional, but Spark ML's PCA (1280x1280 covariance + SVD) is much faster
#    with it than with the pure-Java fallback (see README "Performance").
set -euo pipefail
source "$(dirname "$0")/apt.sh"

if ! command -v java >/dev/null 2>&1; then
  echo "Java is missing: install a JDK 17 (e.g. 'apt-get install openjdk-17-jre-headless') and run again." >&2
  exit 1
fi

if ! command -v mvn >/dev/null 2>&1; then
  if can_apt; then
    apt_install "fetches Spark's Delta Lake and S3A jars from Maven Central" maven
  else
    echo "Maven is missing: install it (e.g. 'sudo apt-get install maven') and run again." >&2
    exit 1
  fi
fi

libraries=$(ldconfig -p 2>/dev/null || true)
if [[ $libraries != *liblapack.so.3* ]]; then
  if can_apt; then
    apt_install "native linear algebra for Spark ML" libopenblas0-pthread liblapack3
  else
    echo "Note: no native LAPACK found; Spark ML falls back to Java (slower PCA)." \
         "Install OpenBLAS (e.g. 'sudo apt-get install libopenblas0-pthread liblapack3') for full speed." >&2
  fi
fi
