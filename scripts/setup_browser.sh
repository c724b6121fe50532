#!/usr/bin/env bash
# Headless Chromium (Debian's package), for the test that opens the built kedro-viz page as a person would.
# Idempotent; called by `make test`. Not needed to run the pipeline.
set -euo pipefail
source "$(dirname "$0")/apt.sh"

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if can_apt; then
  apt_install "the viz test renders the built kedro-viz page headless" chromium
else
  echo "Chromium is missing: install it (e.g. 'sudo apt-get install chromium') and run again." >&2
  exit 1
fi
