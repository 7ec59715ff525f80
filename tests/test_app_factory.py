"""The application factory: no global side effects, SQLite pragmas on the app's own engine, config read in one place."""
import re
from pathlib import Path

from sqlalchemy import create_engine, text

from gaoxin import create_app
from gaoxin.extensions import db

GAOXIN = Path(__file__).resolve().parent.parent / "gaoxin"


def _connect_listeners_of_a_new_engine():
    """How many 'connect' listeners a fresh engine starts with: class-level listeners (on Engine or Pool) show here."""
    engine = create_engine("sqlite://")
    try:
        return len(engine.pool.dispatch.connect)
    finally:
        engine.dispose()


def _sqlite_app(tmp_path, name):
    return create_app({"TESTING": True, "SECRET_KEY": "x", "GAOXIN_DATA_DIR": str(tmp_path / "files"),
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / name}"})


def test_creating_apps_adds_no_listener_to_the_engine_class(tmp_path):
    before = _connect_listeners_of_a_new_engine()
    apps = [_sqlite_app(tmp_path, "one.sqlite"), _sqlite_app(tmp_path, "two.sqlite")]
    assert _connect_listeners_of_a_new_engine() == before
    other = create_engine(f"sqlite:///{tmp_path / 'other.sqlite'}")
    with other.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 0
    other.dispose()
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_each_sqlite_app_enforces_foreign_keys_and_uses_wal(tmp_path):
    for app in (_sqlite_app(tmp_path, "one.sqlite"), _sqlite_app(tmp_path, "two.sqlite")):
        with app.app_context():
            with db.engine.connect() as conn:
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            db.engine.dispose()


def test_only_config_py_reads_the_environment():
    readers = [path.relative_to(GAOXIN).as_posix() for path in sorted(GAOXIN.rglob("*.py"))
               if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text(encoding="utf-8"))]
    assert readers == ["config.py"]


def test_every_config_key_the_code_reads_is_defined_in_config_py(tmp_path):
    from gaoxin import config

    defined = set(config.fixed_settings()) | set(config.from_environment(str(tmp_path)))
    read = set()
    for path in GAOXIN.rglob("*.py"):
        read |= set(re.findall(r"config(?:\[|\.get\()[\"'](GAOXIN_\w+)", path.read_text(encoding="utf-8")))
    assert read and read <= defined, sorted(read - defined)


def test_every_key_in_config_py_has_a_doc_comment():
    lines = (GAOXIN / "config.py").read_text(encoding="utf-8").splitlines()
    undocumented = [line.strip() for i, line in enumerate(lines)
                    if re.match(r'\s+"[A-Z_]+":', line) and not lines[i - 1].strip().startswith("#:")]
    assert undocumented == []


def test_services_and_forms_do_not_reach_into_the_template_layer_or_the_demo_generator_for_reference_data():
    offenders = []
    for folder in ("services", "forms"):
        for path in sorted((GAOXIN / folder).glob("*.py")):
            source = path.read_text(encoding="utf-8")
            if re.search(r"from \.\.filters import|from \.\.demo_data import (?!enterprise_rows\b)", source):
                offenders.append(f"{folder}/{path.name}")
    assert offenders == []
