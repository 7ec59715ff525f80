"""JSON logs via structlog: one line per request (request id, user, unit, endpoint, status, duration, SQL
queries), errors with their traceback in the same stream; the request id comes from a trusted proxy's
X-Request-ID or is made here, and goes back in the response header and onto error pages."""
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar

import structlog
from flask import current_app, g, request
from sqlalchemy import event

from . import metrics

#: A proxy's request id is passed on only when it looks like one (no log injection through the header).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
#: SQL statements run by this request (a one-item list: the listener adds without a lookup per statement).
_queries: ContextVar[list | None] = ContextVar("gaoxin_queries", default=None)

log = structlog.get_logger("gaoxin")


_configured = False


def configure(stream=None, level="INFO"):
    """Send structlog's lines and the standard library's (gunicorn, SQLAlchemy, Flask-Limiter…) as JSON to
    `stream` (stderr by default); may be called again, e.g. by a test that reads the lines."""
    global log, _configured
    _configured = True
    stream = stream or sys.stderr
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    ]
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    # Frames without their local variables: those hold passwords, form fields and personal data.
    tracebacks = structlog.processors.ExceptionRenderer(
        structlog.tracebacks.ExceptionDictTransformer(show_locals=False))
    structlog.configure(
        processors=[*shared, tracebacks, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.set_name("gaoxin-json")
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    tracebacks, renderer]))
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "gaoxin-json"] + [handler]
    root.setLevel(level)
    # A bound logger, not the lazy proxy (one lookup less per line), made anew: the previous one keeps writing
    # to the previous configuration's stream.
    log = structlog.get_logger("gaoxin").bind()


def init_app(app):
    """Request hooks (the first before-request hook and the last after-request one, so that the duration
    covers the others) and the SQL statement counter on this app's engine."""
    if not _configured:  # once per process: a second app (tests, scripts) keeps the first one's stream
        configure(level=app.config["GAOXIN_LOG_LEVEL"])
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
    with app.app_context():
        from .extensions import db

        event.listen(db.engine, "before_cursor_execute", _count_query)


def count_statement():
    """Count one SQL statement sent outside SQLAlchemy's events (the live check's raw psycopg path)."""
    _count_query()


def _count_query(*args):
    counter = _queries.get()
    if counter is not None:
        counter[0] += 1


def _start():
    g.request_started = time.perf_counter()
    g.queries = [0]
    _queries.set(g.queries)
    sent = request.headers.get("X-Request-ID") if current_app.config["GAOXIN_PROXY_COUNT"] else None
    g.request_id = sent if sent and REQUEST_ID.match(sent) else secrets.token_hex(8)


def request_id():
    """This request's id (for error pages and log lines); None outside a request's hooks."""
    return g.get("request_id")


def _user_fields():
    # Never loads the user: the inbox poll's fast path answers without it, and a log line must not add a query.
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        if getattr(user, "is_enterprise", False):  # an enterprise account: no unit; its id apart from staff ids
            return f"e{user.id}", None
        return user.id, user.unit_id
    return g.get("poll_user", (None, None))


def _finish(response):
    started = g.get("request_started")
    if started is None:  # a request that failed before the first hook ran
        return response
    response.headers["X-Request-ID"] = g.request_id
    user_id, unit_id = _user_fields()
    elapsed = time.perf_counter() - started
    log.info("request", request_id=g.request_id, method=request.method, path=request.path,
             endpoint=request.endpoint, status=response.status_code,
             duration_ms=round(elapsed * 1000, 2), queries=g.queries[0],
             user_id=user_id, unit_id=unit_id, remote_addr=request.remote_addr)
    metrics.observe_request(request.endpoint, request.method, response.status_code, elapsed)
    return response


def exception(message="unhandled exception"):
    """Log the exception being handled, with its traceback, as one JSON line carrying the request id."""
    log.exception(message, request_id=request_id(), method=request.method, path=request.path,
                  endpoint=request.endpoint)
