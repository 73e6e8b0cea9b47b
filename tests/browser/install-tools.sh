#!/usr/bin/env bash
# The browser tests' tools, installed where absent: Debian's Chromium (apt; never a browser download)
# and axe-core (npm, pinned in package-lock.json). What cannot be installed is said here, and the
# browser tests then fail with the same words: nothing is skipped silently.
set -uo pipefail
cd "$(dirname "$0")"

if [ -n "${CADENCE_SKIP_BROWSER_TESTS:-}" ]; then
  echo "browser tests: CADENCE_SKIP_BROWSER_TESTS is set, nothing installed (the tests are reported as skipped)"
  exit 0
fi

CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ]; then as_root=(); else as_root=(sudo -n); fi
  echo "browser tests: installing Debian's chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get install -y -q chromium >/dev/null 2>&1 \
    || { "${as_root[@]}" apt-get update -q >/dev/null 2>&1 && "${as_root[@]}" apt-get install -y -q chromium >/dev/null; } \
    || echo "browser tests: could not install chromium (apt-get install -y chromium, as root); the browser tests will FAIL"
fi

if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/axe-core/axe.min.js ]; then
  echo "browser tests: installing axe-core (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null \
    && touch node_modules/axe-core/axe.min.js \
    || echo "browser tests: could not install axe-core (npm ci in tests/browser); the browser tests will FAIL"
fi
exit 0
