"""Shared by the registry benchmarks: the app on a bench database, the PostgreSQL bench database."""
from common import OUT  # noqa: F401 - re-exported for the registry benchmarks

#: The PostgreSQL server CI provides (trust auth, user postgres).
PG_SERVER = "host=127.0.0.1 port=5432 user=postgres"
PG_DATABASE = "gaoxin_bench"


def sqlite_url(name):
    """A SQLite database file under bench/out/ (gitignored)."""
    OUT.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{OUT / name}"


def postgres_url(fresh=False):
    """The gaoxin_bench database (UTF8, C.UTF-8, as scripts/pg_testdb.py makes them); dropped first if `fresh`."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER} dbname=postgres connect_timeout=3", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{PG_DATABASE}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(
                f"""CREATE DATABASE "{PG_DATABASE}" ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"""
            )
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DATABASE}"


def postgres_available():
    """True when the PostgreSQL server answers."""
    try:
        import psycopg

        with psycopg.connect(f"{PG_SERVER} dbname=postgres connect_timeout=3") as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means: skip PostgreSQL
        return False


def make_app(url):
    """The real app on `url`, as the tests configure it (no CSRF, fast password hashing)."""
    from gaoxin import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
        "GAOXIN_PASSWORD_METHOD": "scrypt:1024:8:1", "RATELIMIT_ENABLED": False,
    })


def ensure_user(username, role):
    """A user with `role` whose password is BENCH_PASSWORD (created once)."""
    from sqlalchemy import select

    from gaoxin.extensions import db
    from gaoxin.models import Role, Unit, UnitKind, User

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        unit = db.session.scalar(select(Unit).where(Unit.name == "基准测试单位"))
        if unit is None:
            unit = Unit(name="基准测试单位", kind=UnitKind.dispatch_centre)
            db.session.add(unit)
        user = User(username=username, name="基准测试", unit=unit, must_change_password=False)
        user.set_password(BENCH_PASSWORD)
        user.set_roles([Role(role)])
        db.session.add(user)
        db.session.commit()
    return user


BENCH_PASSWORD = "Bench-pass-2026"
