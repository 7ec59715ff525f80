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
# The job-queue test starts its own private redis-server.
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
if [ -n "$missing" ] && [ "${CI:-}" = "true" ]; then
  echo "== installing$missing for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
elif [ -n "$missing" ]; then
  echo "== missing Debian packages:$missing (apt-get install$missing); browser tests that need them will skip"
fi

# The PostgreSQL pass runs beside the SQLite one (it spends much of its time waiting on the server, the
# SQLite pass on Chromium), so the whole suite takes about as long as the longer pass; GAOXIN_TEST_SERIAL=1
# runs them one after the other. Its output is printed when both have finished.
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
pg_pid=""
work=$(mktemp -d -t gaoxin-tests.XXXXXX)   # each pass its own pytest temp folder and the PostgreSQL log
pg_log="$work/postgresql.log"
trap '[ -n "$pg_pid" ] && kill "$pg_pid" 2>/dev/null; rm -rf "$work"; true' EXIT
run_postgres() {
  GAOXIN_TEST_DATABASE_URL="$url" $PY -m pytest -q -p no:cacheprovider --basetemp="$work/pg" --ignore=tests/browser "$@"
}
if $PY scripts/pg_testdb.py --check "$PGHOST" "$PGPORT" "$PGUSER" 2>/dev/null; then
  url=$($PY scripts/pg_testdb.py --create "$PGHOST" "$PGPORT" "$PGUSER" gaoxin_test)
  if [ "${GAOXIN_TEST_SERIAL:-}" != "1" ]; then
    echo "== tests on PostgreSQL ($PGHOST:$PGPORT/gaoxin_test) started in the background"
    run_postgres "$@" >"$pg_log" 2>&1 &
    pg_pid=$!
  fi
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $PGHOST:$PGPORT: CI requires it." >&2
  exit 1
else
  url=""
  echo "== PostgreSQL not reachable at $PGHOST:$PGPORT: skipped the PostgreSQL run (CI requires it)."
fi

echo "== tests on SQLite (with browser tests)"
sqlite_status=0
$PY -m pytest -q -p no:cacheprovider --basetemp="$work/sqlite" "$@" || sqlite_status=$?

pg_status=0
if [ -n "$pg_pid" ]; then
  wait "$pg_pid" || pg_status=$?
  pg_pid=""
  echo "== tests on PostgreSQL ($PGHOST:$PGPORT/gaoxin_test, browser tests ran on SQLite)"
  cat "$pg_log"
elif [ -n "$url" ]; then
  echo "== tests on PostgreSQL ($PGHOST:$PGPORT/gaoxin_test, browser tests ran on SQLite)"
  run_postgres "$@" || pg_status=$?
fi
if [ "$sqlite_status" != 0 ] || [ "$pg_status" != 0 ]; then
  echo "== FAILED: SQLite pass exit $sqlite_status, PostgreSQL pass exit $pg_status" >&2
  exit 1
fi
