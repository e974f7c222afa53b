#!/usr/bin/env bash
# Fresh machine → the test suite. Pass --all to include the slow suites (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
if [ "${1:-}" = "--all" ]; then
  shift
  exec .venv/bin/python -m pytest -q -m "" "$@"
fi
exec .venv/bin/python -m pytest -q "$@"
