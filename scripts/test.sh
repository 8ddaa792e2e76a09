#!/usr/bin/env bash
# The test command (README, CI): install everything, lint, run the whole suite, then the quality
# gate on the development set with the default embedder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/install-browser.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
# Quality gate: a fresh index of the demo corpus (embeddings come from the test run's cache).
gate_dir=$(mktemp -d)
trap 'rm -rf "$gate_dir"' EXIT
export SA_DATA_DIR="$gate_dir" SA_EMBEDDING_CACHE_PATH="$PWD/.pytest_cache/sa-embeddings.sqlite"
.venv/bin/strategy-assistant ingest examples/corpus --json > "$gate_dir/ingest.json"
.venv/bin/strategy-assistant eval --gate --out "$gate_dir/report"
