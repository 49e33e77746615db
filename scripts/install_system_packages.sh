#!/usr/bin/env bash
# The system packages the test suite needs, installed with apt when missing:
#   npm              buf (scripts/lint_protos.sh) and the workbench front end
#   postgresql       initdb/pg_ctl: the suite starts its own PostgreSQL
#   chromium         the browser tests (tests/workbench)
#   fonts-noto-cjk   so that the browser's screenshots show the Chinese labels
#   unzip            `unzip -t` checks the ZIP exports
# Used by `make test` and by .ci/run. As root on Debian it installs what is missing;
# otherwise it names what is missing and the command that installs it, and fails.
#
# WORKBENCH_TEST_SKIP_BROWSER=1 (for a machine without a browser; never set in CI)
# leaves out chromium and the fonts, and the browser tests then skip.
set -euo pipefail

missing=()
command -v npm >/dev/null || missing+=(npm)
if ! command -v initdb >/dev/null && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  missing+=(postgresql)
fi
command -v unzip >/dev/null || missing+=(unzip)
if [[ "${WORKBENCH_TEST_SKIP_BROWSER:-}" != 1 ]]; then
  command -v chromium >/dev/null || missing+=(chromium)
  compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK*' >/dev/null || missing+=(fonts-noto-cjk)
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
{
  echo "missing system packages: ${missing[*]}"
  echo "install them (on Debian: sudo apt-get install ${missing[*]}), or run this as root on Debian."
  if [[ " ${missing[*]} " == *" chromium "* || " ${missing[*]} " == *" fonts-noto-cjk "* ]]; then
    echo "Without a browser: WORKBENCH_TEST_SKIP_BROWSER=1 skips the browser tests (never in CI)."
  fi
} >&2
exit 1
