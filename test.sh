#!/usr/bin/env bash
# Run the whole test suite: SQLite, then PostgreSQL (if reachable; required when CI=true), browser tests included.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-venv
PY=.venv/bin/python
export PYTHONDONTWRITEBYTECODE=1

# Browser tests need Debian's Chromium, CJK fonts, pdftotext (printed notices), Java (the Nu HTML
# Checker) and nginx (the two-server deployment test); CI installs what is missing.
missing=""
for pkg in chromium fonts-noto-cjk poppler-utils nginx; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless"
if [ -n "$missing" ] && [ "${CI:-}" = "true" ]; then
  echo "== installing$missing for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
elif [ -n "$missing" ]; then
  echo "== missing Debian packages:$missing (apt-get install$missing); browser tests that need them will skip"
fi

echo "== tests on SQLite (with browser tests)"
$PY -m pytest -q -p no:cacheprovider "$@"

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
if $PY scripts/pg_testdb.py --check "$PGHOST" "$PGPORT" "$PGUSER" 2>/dev/null; then
  url=$($PY scripts/pg_testdb.py --create "$PGHOST" "$PGPORT" "$PGUSER" gaoxin_test)
  echo "== tests on PostgreSQL ($PGHOST:$PGPORT/gaoxin_test, browser tests ran on SQLite)"
  GAOXIN_TEST_DATABASE_URL="$url" $PY -m pytest -q -p no:cacheprovider --ignore=tests/browser "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $PGHOST:$PGPORT: CI requires it." >&2
  exit 1
else
  echo "== PostgreSQL not reachable at $PGHOST:$PGPORT: skipped the PostgreSQL run (CI requires it)."
fi
