#!/usr/bin/env bash
# Run 高新通 on SQLite with demo data: http://127.0.0.1:5000 (set PORT to change it).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-venv
export FLASK_APP=app.py
.venv/bin/flask db upgrade
.venv/bin/flask gaoxin demo --if-empty
echo
echo "高新通已启动： http://127.0.0.1:${PORT:-5000}/  （Ctrl+C 停止）"
exec .venv/bin/gunicorn -c gunicorn.conf.py app:app
