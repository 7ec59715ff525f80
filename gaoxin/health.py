"""Readiness checks for /readyz: the database, Redis when the rate limits use it, and whatever another part
registers (the job queue) with `register_check`; each returns None when fine or a Chinese reason."""
from flask import current_app
from sqlalchemy import text

from .extensions import db

#: name → (Chinese title, function() → None when ready, else the reason); run in the order registered.
_checks = {}


def register_check(name, title, function):
    """Add (or replace) a readiness check: `function()` runs inside the /readyz request's app context and
    returns None when ready or a short Chinese reason; an exception counts as not ready. Keep it under a
    second (use the client's own timeouts): the load balancer polls /readyz every few seconds."""
    _checks[name] = (title, function)


def _database():
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def redis_url():
    """The Redis the site depends on (the shared rate-limit storage), or None when it uses none."""
    url = current_app.config.get("RATELIMIT_STORAGE_URI") or ""
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


def _redis():
    url = redis_url()
    if url is None:
        return "skip"
    clients = current_app.extensions.setdefault("gaoxin_health_redis", {})
    if url not in clients:
        import redis

        clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    clients[url].ping()
    return None


register_check("database", "数据库", _database)
register_check("redis", "Redis", _redis)


def readiness():
    """(ready, {name: "ok" | "skipped" | reason}, [Chinese lines for what is not ready])."""
    results, problems = {}, []
    for name, (title, function) in list(_checks.items()):
        try:
            outcome = function()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason is reported
            outcome = f"无法连接（{type(exc).__name__}）"
            if name == "database":
                db.session.rollback()
        if outcome == "skip":
            results[name] = "skipped"
        elif outcome:
            results[name] = outcome
            problems.append(f"{title}：{outcome}")
        else:
            results[name] = "ok"
    return not problems, results, problems
