#!/usr/bin/env bash
# Lint protos/ with buf, offline.
#
# buf comes from the npm package @bufbuild/buf (pinned below) installed into
# third_party/node; google/api/*.proto come from the installed
# googleapis-common-protos wheel (annotations, http, field_behavior), copied into third_party/googleapis so that
# buf resolves the imports without reaching the Buf Schema Registry.
#
# Usage: scripts/lint_protos.sh [python]   (python defaults to .venv/bin/python)
set -euo pipefail

BUF_VERSION="1.75.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${1:-${PYTHON:-$ROOT/.venv/bin/python}}"
NODE_PREFIX="$ROOT/third_party/node"
BUF="$NODE_PREFIX/node_modules/.bin/buf"

if [[ ! -x "$BUF" ]] || [[ "$("$BUF" --version)" != "$BUF_VERSION" ]]; then
  npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --silent "@bufbuild/buf@$BUF_VERSION"
fi

GOOGLEAPIS="$ROOT/third_party/googleapis"
"$PYTHON" - "$GOOGLEAPIS" <<'PY'
"""Copy google/api/{annotations,http,field_behavior}.proto from the googleapis-common-protos wheel."""
import shutil
import sys
from pathlib import Path

import google.api

source = Path(next(iter(google.api.__path__)))
target = Path(sys.argv[1]) / "google" / "api"
shutil.rmtree(target, ignore_errors=True)
target.mkdir(parents=True)
for name in ("annotations.proto", "http.proto", "field_behavior.proto"):
    shutil.copy2(source / name, target / name)
PY

cd "$ROOT"
"$BUF" lint
echo "buf lint: ok"
