#!/usr/bin/env bash
# Install the workbench's front-end files (Label Studio 1.4.0, Preact, htm) from
# the npm registry into third_party/workbench, exactly as workbench/package-lock.json
# pins them (`npm ci` checks every package against its integrity hash).
#
# The gateway serves them under /workbench/vendor/ (gateway/workbench.py); without
# them /workbench/ answers with a page that names this script. Nothing runs at
# install time (--ignore-scripts): only prebuilt files are used.
#
# Usage: scripts/install_workbench.sh     (does nothing when already up to date)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOURCE="$ROOT/workbench"
TARGET="$ROOT/third_party/workbench"
STAMP="$TARGET/node_modules/.workbench-lock.json"

if [[ -f "$STAMP" ]] && cmp -s "$SOURCE/package-lock.json" "$STAMP"; then
  echo "workbench assets: up to date"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "workbench assets: npm is missing (install Node.js and npm, then run $0)" >&2
  exit 1
fi

mkdir -p "$TARGET"
cp "$SOURCE/package.json" "$SOURCE/package-lock.json" "$TARGET/"
(cd "$TARGET" && npm ci --ignore-scripts --no-audit --no-fund --silent)
cp "$SOURCE/package-lock.json" "$STAMP"
echo "workbench assets: installed into ${TARGET#"$ROOT"/}"
