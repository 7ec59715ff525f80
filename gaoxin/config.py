"""Configuration: the only module that reads os.environ (GAOXIN_* and DATABASE_URL)."""
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def from_environment(instance_path):
    """Build the config mapping from the environment."""
    data_dir = Path(os.environ.get("GAOXIN_DATA_DIR", Path(instance_path) / "files"))
    return {
        "SECRET_KEY": _secret_key(instance_path),
        #: SQLite file in instance/ by default; PostgreSQL in production.
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        #: Where uploaded files live (a shared volume when several machines serve the site).
        "GAOXIN_DATA_DIR": str(data_dir),
        #: Send cookies only over HTTPS; set to 1 behind TLS.
        "SESSION_COOKIE_SECURE": _bool("GAOXIN_SECURE_COOKIES"),
        #: Minutes of inactivity after which a session ends (等保 requirement).
        "GAOXIN_IDLE_MINUTES": int(os.environ.get("GAOXIN_IDLE_MINUTES", "30")),
        #: Rate-limit counters; use redis://host:6379 when several workers serve the site.
        "RATELIMIT_STORAGE_URI": os.environ.get("GAOXIN_RATELIMIT_STORAGE", "memory://"),
        #: Number of proxies in front of the app whose X-Forwarded-For we trust.
        "GAOXIN_PROXY_COUNT": int(os.environ.get("GAOXIN_PROXY_COUNT", "0")),
        #: The name shown in the header and on printed notices.
        "GAOXIN_SITE_NAME": os.environ.get("GAOXIN_SITE_NAME", "高新通 · 企业服务平台"),
    }
