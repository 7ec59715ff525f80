"""Operations endpoints, reachable without logging in: /healthz (the process answers), /readyz (what it
depends on answers) and /metrics (Prometheus, only from GAOXIN_METRICS_ALLOW)."""
from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import Forbidden

from .. import health, metrics

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers; touches no database, so a database outage does not restart workers."""
    return jsonify(status="ok", message="进程正常")


@bp.get("/readyz")
def readyz():
    """Readiness for the load balancer: 200 when the database (and Redis, when configured) answer, else 503."""
    ready, checks, problems = health.readiness()
    if ready:
        return jsonify(status="ok", message="就绪", checks=checks)
    return jsonify(status="error", message="未就绪：" + "；".join(problems), checks=checks), 503


@bp.get("/metrics")
def metrics_view():
    """Prometheus exposition, for the addresses in GAOXIN_METRICS_ALLOW only (403 with a Chinese page otherwise)."""
    if not metrics.may_read(current_app.extensions["gaoxin_metrics_allow"], request.remote_addr):
        refusal = Forbidden()
        refusal.gaoxin_message = f"本机地址 {request.remote_addr} 不在允许读取监控指标的地址（GAOXIN_METRICS_ALLOW）之内。"
        raise refusal
    body, content_type = metrics.exposition(current_app.config["PROMETHEUS_MULTIPROC_DIR"])
    return current_app.response_class(body, content_type=content_type)
