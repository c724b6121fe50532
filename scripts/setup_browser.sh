#!/usr/bin/env bash
# Headless Chromium (Debian's package), for the test that opens the built kedro-viz page as a person would.
# Idempotent; called by `make test`. Not needed to run the pipeline.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium (the viz test renders the built kedro-viz page headless)..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Chromium is missing: install it (e.g. 'sudo apt-get install chromium') and run again." >&2
  exit 1
fi
