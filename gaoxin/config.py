"""Configuration: the only module that reads os.environ (GAOXIN_* and DATABASE_URL); every key is listed here."""
import os
import secrets
from datetime import timedelta
from pathlib import Path


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(instance_path):
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{Path(instance_path) / 'gaoxin.sqlite'}"
    # Heroku-style and plain URLs name the driver differently; we use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key(instance_path):
    """GAOXIN_SECRET_KEY, or a key kept in the instance folder so dev sessions survive restarts."""
    key = os.environ.get("GAOXIN_SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def fixed_settings():
    """Settings that are the same in every deployment (a fresh mapping: create_app adds engine options)."""
    return {
        #: Engine options; create_app fills in the driver's (connect_args, pool_pre_ping).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        #: The session cookie is not readable by scripts on the page.
        "SESSION_COOKIE_HTTPONLY": True,
        #: The session cookie is not sent with posts from other sites (CSRF defence in depth).
        "SESSION_COOKIE_SAMESITE": "Lax",
        #: Our own cookie name, so that another Flask app on the same intranet host does not clash.
        "SESSION_COOKIE_NAME": "gaoxin_session",
        #: The longest a session lives, however active (idleness ends it sooner: GAOXIN_IDLE_MINUTES).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        #: The largest request body (110 MB): several attachments of at most 20 MB each, or a registry export.
        "MAX_CONTENT_LENGTH": 110 * 1024 * 1024,
        #: A CSRF token lasts as long as the session (a form left open over lunch still submits).
        "WTF_CSRF_TIME_LIMIT": None,
        #: JSON answers keep Chinese readable instead of \u escapes.
        "JSON_AS_ASCII": False,
        #: Rate-limited answers say how many requests are left and when the window resets.
        "RATELIMIT_HEADERS_ENABLED": True,
        #: Redis down: rate limits are counted in each worker's memory (Flask-Limiter logs one warning), and
        #: shared again once Redis answers (asked again after 1, 2, 4 … 32 s, then from 1 s again).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        #: A Redis error the fall-back does not catch (another thread of the worker switched to memory while this
        #: request was adding its limit headers: seen as a 500 in bench/faults/redis_down.py) is logged, not a 500.
        "RATELIMIT_SWALLOW_ERRORS": True,
        #: A Redis that does not answer costs a request one second, not a hang (ignored by memory://).
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        #: werkzeug password-hash method; tests set a cheap scrypt so that logging in stays fast.
        "GAOXIN_PASSWORD_METHOD": "scrypt",
        #: The most rows an export writes inside the request; a longer list is exported by a background job.
        "GAOXIN_EXPORT_SYNC_LIMIT": 10_000,
    }


def from_environment(instance_path):
    """Build the config mapping from the environment."""
    data_dir = Path(os.environ.get("GAOXIN_DATA_DIR", Path(instance_path) / "files"))
    return {
        #: Signs sessions and CSRF tokens: GAOXIN_SECRET_KEY, or a key kept in instance/secret_key.
        "SECRET_KEY": _secret_key(instance_path),
        #: Key of the audit log's hash chain (HMAC-SHA256). Empty: derived from SECRET_KEY as
        #: HMAC(SECRET_KEY, "audit"). Set it explicitly in production, keep it apart from the database
        #: backups, and never change it: entries sealed with another key no longer verify.
        "GAOXIN_AUDIT_KEY": os.environ.get("GAOXIN_AUDIT_KEY", ""),
        #: SQLite file in instance/ by default; PostgreSQL in production.
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        #: Where uploaded files live (a shared volume when several machines serve the site).
        "GAOXIN_DATA_DIR": str(data_dir),
        #: Send cookies only over HTTPS; set to 1 behind TLS.
        "SESSION_COOKIE_SECURE": _bool("GAOXIN_SECURE_COOKIES"),
        #: Minutes of inactivity after which a session ends (等保 requirement).
        "GAOXIN_IDLE_MINUTES": int(os.environ.get("GAOXIN_IDLE_MINUTES", "30")),
        #: Days a password may be used before a forced change (等保 身份鉴别: 定期更换); 0 turns it off.
        "GAOXIN_PASSWORD_MAX_AGE_DAYS": int(os.environ.get("GAOXIN_PASSWORD_MAX_AGE_DAYS", "90")),
        #: Rate-limit counters; use redis://host:6379 when several workers serve the site.
        "RATELIMIT_STORAGE_URI": os.environ.get("GAOXIN_RATELIMIT_STORAGE", "memory://"),
        #: Number of proxies in front of the app whose X-Forwarded-For we trust.
        "GAOXIN_PROXY_COUNT": int(os.environ.get("GAOXIN_PROXY_COUNT", "0")),
        #: The name shown in the header and on printed notices.
        "GAOXIN_SITE_NAME": os.environ.get("GAOXIN_SITE_NAME", "高新通 · 企业服务平台"),
        #: The enterprise service centre (the dispatch centre) as enterprises and staff know it: named in
        #: messages about cases waiting for dispatch and in page footers.
        "GAOXIN_CENTRE_NAME": os.environ.get("GAOXIN_CENTRE_NAME", "企业服务中心"),
        #: The department that organises 高新沙龙 (its leads plan salons with the dispatcher), by unit name.
        "GAOXIN_SALON_ORGANISER": os.environ.get("GAOXIN_SALON_ORGANISER", "经济运行局"),
        #: The address enterprises reach the site at (e.g. https://gxt.example.gov.cn), printed on receipts
        #: and notices with the lookup page's path; empty: the address of the request that printed it.
        "GAOXIN_PUBLIC_URL": os.environ.get("GAOXIN_PUBLIC_URL", "").strip().rstrip("/"),
        #: Seconds to wait for a new PostgreSQL connection (an unreachable server answers 503 within this).
        "GAOXIN_DB_CONNECT_TIMEOUT": int(os.environ.get("GAOXIN_DB_CONNECT_TIMEOUT", "3")),
        #: Seconds one SQL statement may run on PostgreSQL before the server cancels it (503); 0: no limit.
        "GAOXIN_DB_STATEMENT_TIMEOUT": int(os.environ.get("GAOXIN_DB_STATEMENT_TIMEOUT", "30")),
        #: Seconds a pooled PostgreSQL connection may sit unused before it is pinged (one round trip) before use.
        "GAOXIN_DB_PING_AFTER_IDLE": float(os.environ.get("GAOXIN_DB_PING_AFTER_IDLE", "2")),
        #: Seconds a PostgreSQL statement may wait for a row or table lock before it gives up (503).
        "GAOXIN_DB_LOCK_TIMEOUT": int(os.environ.get("GAOXIN_DB_LOCK_TIMEOUT", "5")),
        #: The largest registry export the import page accepts, in MB (a full export of 220,000 enterprises
        #: is about 124 MB); every other request keeps MAX_CONTENT_LENGTH.
        "GAOXIN_IMPORT_MAX_MB": int(os.environ.get("GAOXIN_IMPORT_MAX_MB", "300")),
        #: Where background jobs queue: empty for a SQLite file instance/jobs.sqlite (one machine), or
        #: redis://host:6379/1 when several machines run workers; "immediate" runs each job inside the request
        #: that starts it (tests only). `flask gaoxin worker` runs them.
        "GAOXIN_JOBS_URL": os.environ.get("GAOXIN_JOBS_URL", "").strip(),
        #: Retries of a job that raised, before it is marked failed (so it runs at most 1 + this many times).
        "GAOXIN_JOBS_RETRIES": int(os.environ.get("GAOXIN_JOBS_RETRIES", "2")),
        #: Seconds between a failed attempt and its retry.
        "GAOXIN_JOBS_RETRY_DELAY": int(os.environ.get("GAOXIN_JOBS_RETRY_DELAY", "60")),
        #: Worker threads of `flask gaoxin worker`.
        "GAOXIN_JOBS_WORKERS": int(os.environ.get("GAOXIN_JOBS_WORKERS", "2")),
        #: Hours a background export's file is kept for its owner to download, then removed.
        "GAOXIN_EXPORT_KEEP_HOURS": int(os.environ.get("GAOXIN_EXPORT_KEEP_HOURS", "24")),
        #: Addresses (CIDRs, comma-separated) that may read /metrics; everyone else gets 403.
        "GAOXIN_METRICS_ALLOW": os.environ.get("GAOXIN_METRICS_ALLOW", "127.0.0.1/32"),
        #: Where the gunicorn workers share their Prometheus counters (prometheus_client's multiprocess mode,
        #: which reads this variable itself); empty: one process counts alone (flask run, tests).
        "PROMETHEUS_MULTIPROC_DIR": os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""),
        #: Log level of the JSON log lines (DEBUG, INFO, WARNING, ERROR).
        "GAOXIN_LOG_LEVEL": os.environ.get("GAOXIN_LOG_LEVEL", "INFO").upper(),
    }


def child_environment(**extra):
    """The environment for a child process (pg_dump, pg_restore) with `extra` set, e.g. PGPASSWORD, so that a
    password never appears on a command line that `ps` shows."""
    return {**os.environ, **extra}
