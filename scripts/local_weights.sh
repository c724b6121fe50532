#!/usr/bin/env bash
# Make the MobileNetV2 weights found next to the clone (../shared/data/weights) this machine's default, so that
# plain `kedro run` works offline after `make run`. Writes conf/local/globals.yml (git-ignored) once; a file you
# wrote yourself is never replaced. The project's shipped default stays `imagenet` (Keras' download and cache).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEIGHTS="$ROOT/../shared/data/weights/mobilenet_v2_1.0_224_no_top_tfslim.h5"
TARGET="$ROOT/conf/local/globals.yml"

if [[ -e "$TARGET" ]]; then
    exit 0
fi
if [[ -f "$WEIGHTS" ]]; then
    WEIGHTS="$(cd "$(dirname "$WEIGHTS")" && pwd)/$(basename "$WEIGHTS")"
    printf '# Written by scripts/local_weights.sh: this machine has the weights locally (no download needed).\nweights: %s\n' \
        "$WEIGHTS" > "$TARGET"
    echo "MobileNetV2 weights for this machine: $WEIGHTS (in $TARGET)"
fi
