#!/usr/bin/env bash
# Creates .venv and installs the project with everything the tests need. Idempotent: skips the
# pip step when pyproject.toml has not changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # The CPU build of torch lies on disk for this pin; an unpinned torch would pull CUDA (GBs).
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e ".[st,dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
