#!/usr/bin/env bash
# Run 高新通 on SQLite with demo data: http://127.0.0.1:5000 (set PORT to change it).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-venv
export FLASK_APP=app.py
.venv/bin/flask db upgrade
.venv/bin/flask gaoxin demo --if-empty
# The background-job worker (imports, exports, due dates, the periodic checks) runs beside the web server and
# stops with this script.
.venv/bin/flask gaoxin worker &
worker_pid=$!
trap 'kill "$worker_pid" 2>/dev/null || true' EXIT
echo
echo "高新通已启动： http://127.0.0.1:${PORT:-5000}/  （Ctrl+C 停止）"
# The two workers add their request counters up for /metrics through files here (emptied at each start).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/instance/prometheus}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
# Not exec: the trap above stops the worker when the server stops.
.venv/bin/gunicorn -c gunicorn.conf.py app:app
