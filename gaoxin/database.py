"""How the app talks to its database: the engine's options per driver and the hooks on its pool and statements."""
import time

from flask import g, has_app_context
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

from .extensions import db

#: SQLite: how long a writer waits for another worker's write transaction before it gives up (503), in seconds.
SQLITE_BUSY_TIMEOUT = 10
#: Seconds a request waits for a free pooled connection before it gives up (503) instead of queueing on.
POOL_TIMEOUT = 5
#: Execution option for a statement whose best plan depends on its values (the 2-character name search):
#: sent unprepared, so PostgreSQL plans it for the values of each execution.
CUSTOM_PLAN = {"gaoxin_custom_plan": True}


def engine_options(app):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    if uri.startswith("postgresql"):
        # Server-side prepared statements: a statement run 5 times on a connection is parsed once and, after
        # five plans for its values, PostgreSQL keeps a generic plan when that costs no more — the appeal page's
        # statement with its joins spent 1.3 ms planning for 0.2 ms of work, every time, while planning was
        # forced per execution. The one statement a generic plan hurt (`LIKE '%xx%'`, 5x slower) is sent
        # unprepared (CUSTOM_PLAN).
        # JIT off: the inbox's tab counts (one statement, estimated above jit_above_cost) spent 31 ms
        # compiling for 10 ms of work; every query here is short.
        # A bad day ends in a 503 within seconds, never in a hung worker: connect_timeout for a server that
        # does not answer, statement_timeout and lock_timeout for a statement stuck on the server.
        settings = "-c jit=off"
        settings += f" -c lock_timeout={app.config['GAOXIN_DB_LOCK_TIMEOUT'] * 1000}"
        settings += f" -c statement_timeout={app.config['GAOXIN_DB_STATEMENT_TIMEOUT'] * 1000}"
        options.setdefault("connect_args", {
            "prepare_threshold": 5, "connect_timeout": app.config["GAOXIN_DB_CONNECT_TIMEOUT"], "options": settings})
        # Last in, first out: the connections in use stay hot, the others sit idle and are pinged (or renewed by
        # pool_recycle) when a burst needs them again.
        options.setdefault("pool_use_lifo", True)
        options.setdefault("pool_recycle", 3600)
        options.setdefault("pool_timeout", POOL_TIMEOUT)
    elif uri.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT})


def dialect_insert(dialect_name):
    """The INSERT with ON CONFLICT of the app's two databases (PostgreSQL's and SQLite's have the same API)."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the app runs on PostgreSQL and SQLite only
        raise RuntimeError(f"no upsert for {dialect_name}")
    return insert


def init_app(app):
    """The hooks on this app's engine only: a listener on the Engine class would also fire for every other
    app's engine, and each create_app() (the tests make many) would add one more."""
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _note_write)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "checkin", _checkin)
        event.listen(engine, "checkout", _pinger(engine.dialect, app.config["GAOXIN_DB_PING_AFTER_IDLE"]))
        event.listen(engine, "do_execute", _execute)


def _sqlite_pragmas(dbapi_connection, record):
    """On every new SQLite connection: enforce foreign keys (off by default in SQLite), and WAL so that
    readers do not wait for the writer (synchronous=NORMAL is safe under WAL)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _checkin(dbapi_connection, record):
    record.info["idle_since"] = time.monotonic()


def _pinger(dialect, after_idle):
    def _checkout(dbapi_connection, record, proxy):
        """Ping a connection that sat idle in the pool (one round trip), not one that served a request a moment
        ago: after a database restart an idle pool's connections are all dead, and the ping replaces each
        before a user's request meets it. A busy pool's dead connection fails its request with the Chinese 503
        instead, and that first disconnect makes SQLAlchemy renew the whole pool, so one request per worker
        notices a restart — during which requests are failing anyway (tests/test_faults.py)."""
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < after_idle:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means: do not use this connection
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc
    return _checkout


def _execute(cursor, statement, parameters, context):
    if context.execution_options.get("gaoxin_custom_plan"):
        cursor.execute(statement, parameters, prepare=False)
        return True
    return False


#: flask.g key: this request sent a statement that may have written (anything but a SELECT).
_WROTE = "db_wrote"


def _note_write(conn, cursor, statement, parameters, context, executemany):
    if (executemany or statement[:6].upper() != "SELECT") and has_app_context():
        g.setdefault(_WROTE, True)


def commit_if_read_only():
    """End the request's transaction with COMMIT when it only read: the same as ROLLBACK for the data, but
    psycopg forgets every statement it has prepared on the connection at a ROLLBACK (it cannot know what a
    rolled-back transaction dropped), and every page ended with one — no statement outlived its request.
    Anything else (a statement that was not a SELECT, changes not flushed, a failed transaction) is left for
    the ROLLBACK of session.remove()."""
    if g.get(_WROTE):
        return
    session = db.session()
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active or session.new or session.dirty or session.deleted:
        return
    session.commit()
