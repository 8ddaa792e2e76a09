#!/usr/bin/env bash
# The main job on a fresh machine: install, ingest the demo corpus, show what is indexed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1
.venv/bin/strategy-assistant ingest examples/corpus
.venv/bin/strategy-assistant documents
.venv/bin/strategy-assistant search "Hvad sker der i 3. kvartal under grøn mobilitet?" --audience staff
