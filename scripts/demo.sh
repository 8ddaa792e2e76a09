#!/usr/bin/env bash
# The main job on a fresh machine: install, ingest the demo corpus, serve the chat on
# http://127.0.0.1:8000 (chat page at /, API at /api, OpenAI-compatible at /v1). Ctrl-C stops.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1
.venv/bin/strategy-assistant ingest examples/corpus
exec .venv/bin/strategy-assistant serve "$@"
