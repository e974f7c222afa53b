#!/usr/bin/env bash
# Fresh machine → running service with its chat page on http://127.0.0.1:8000/ (SQLite in data/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/triage serve "$@"
