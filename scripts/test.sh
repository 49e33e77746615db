#!/usr/bin/env bash
# Run the whole test suite on both database engines (SQLite and a PostgreSQL
# that the test session starts by itself; see tests/postgres.py).
#
# Usage: scripts/test.sh [pytest arguments...]
#   scripts/test.sh --db-engines sqlite      # one engine only
#   scripts/test.sh tests/storage -x         # a subset
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
cd "$ROOT"
exec "$PYTHON" -m pytest "$@"
