#!/usr/bin/env bash
# What the browser tests (tests/browser/) need besides the project: Debian's chromium and the
# Playwright Python package in .venv. Playwright's own browser downloads are never used (no
# `playwright install`): the tests launch /usr/bin/chromium. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
fi
if [ ! -x .venv/bin/python ]; then
  bash scripts/install.sh
fi
if ! .venv/bin/python -c "import playwright.sync_api" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet playwright
fi
