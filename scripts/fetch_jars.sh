#!/usr/bin/env bash
# Copy the jars of scripts/maven-jars.txt from Maven Central into .jars/ (the project's cache), once: later runs and
# tests work offline. Idempotent: a jar already there is not fetched again. Called by `make setup`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JARS_DIR="$ROOT/.jars"
mkdir -p "$JARS_DIR"

while read -r coordinate; do
    [[ -z "$coordinate" || "$coordinate" == \#* ]] && continue
    artifact="$(cut -d: -f2 <<<"$coordinate")"
    [[ -s "$JARS_DIR/$artifact.jar" ]] && continue
    if ! command -v mvn >/dev/null 2>&1; then
        echo "Maven is missing: install it (e.g. 'apt-get install maven') and run 'make setup' again." >&2
        exit 1
    fi
    echo "Fetching $coordinate from Maven Central into $JARS_DIR ..."
    staging="$(mktemp -d "$JARS_DIR/.staging.XXXXXX")"
    trap 'rm -rf "$staging"' EXIT
    mvn --batch-mode --quiet dependency:copy -Dartifact="$coordinate" -DoutputDirectory="$staging" \
        -Dmdep.stripVersion=true
    mv "$staging/$artifact.jar" "$JARS_DIR/$artifact.jar"   # a rename: an interrupted fetch leaves no half jar
    rm -rf "$staging"
    trap - EXIT
done < "$ROOT/scripts/maven-jars.txt"
