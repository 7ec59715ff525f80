"""The migrations build the schema the models describe, on an empty SQLite or PostgreSQL database."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from gaoxin import create_app
from gaoxin.extensions import db


@pytest.fixture
def empty_database_url(tmp_path):
    url = os.environ.get("GAOXIN_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    base, _, name = url.rpartition("/")
    scratch = f"{name}_migrations"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(text(f"CREATE DATABASE \"{scratch}\" ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' "
                          "LC_CTYPE 'C.UTF-8' TEMPLATE template0"))
    yield f"{base}/{scratch}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    admin.dispose()


def _without_reflected_expression_noise(diff):
    """Alembic cannot compare an expression index (PostgreSQL reflects `(state)::text = 'x'::text` for
    `state = 'x'`): drop the remove/add pair it reports for the same expression index name."""
    def expression_index(entry):
        return entry[0] in ("add_index", "remove_index") and any(
            not hasattr(e, "name") or type(e).__name__ in ("Grouping", "_textual_index_element")
            for e in entry[1].expressions)
    names = [entry[1].name for entry in diff if expression_index(entry)]
    paired = {n for n in names if names.count(n) == 2}
    return [entry for entry in diff if not (expression_index(entry) and entry[1].name in paired)]


def test_upgrade_on_an_empty_database_matches_the_models_and_downgrades_cleanly(empty_database_url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url,
                      "GAOXIN_DATA_DIR": str(tmp_path)})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        diff = _without_reflected_expression_noise(diff)
        assert diff == [], f"models and migrations differ: {diff}"
        # The expression index is compared by hand: it must exist, with its expression, on both databases.
        catalogue = ("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_appeals_open_due'"
                     if db.engine.dialect.name == "postgresql"
                     else "SELECT sql FROM sqlite_master WHERE name = 'ix_appeals_open_due'")
        definition = db.session.execute(text(catalogue)).scalar() or ""
        compact = " ".join(definition.split()).upper()
        assert "CASE WHEN" in compact and "SIGN_DUE_ON" in compact and "IN_PROGRESS" in compact
        tables = set(inspect(db.engine).get_table_names())
        assert "user" not in tables and {"users", "appeals", "enterprises", "audit_entries"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_the_rollup_migration_fills_the_rollup_from_the_appeals_already_there(empty_database_url, tmp_path):
    import datetime as dt
    import random

    from gaoxin.demo_data import make_credit_code
    from gaoxin.models import Appeal, AppealCategory, Role, Unit, UnitKind, User
    from gaoxin.services import rollups
    from gaoxin.services.enterprises import upsert_rows

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url,
                      "GAOXIN_DATA_DIR": str(tmp_path)})
    with app.app_context():
        upgrade()
        units = [Unit(name=n, kind=UnitKind.department) for n in ("科技人才局", "财政金融局")]
        station = Unit(name="楼宇站", kind=UnitKind.building_station)
        clerk = User(username="clerk", name="登记员", unit=station, must_change_password=False)
        clerk.set_password("Passw0rd!2026")
        clerk.set_roles([Role.clerk])
        categories = [AppealCategory(name=f"类别{i}", lead_unit=u) for i, u in enumerate(units)]
        db.session.add_all([*units, station, clerk, *categories])
        upsert_rows([{"credit_code": make_credit_code(random.Random(1)), "name": "成都迁移测试科技有限公司"}])
        db.session.commit()
        enterprise_id = db.session.execute(text("SELECT id FROM enterprises")).scalar()
        rng = random.Random(5)
        for i in range(30):
            dispatched = dt.datetime(2026, 1 + i % 4, 1 + rng.randrange(28), rng.randrange(24), tzinfo=dt.timezone.utc)
            replied = dispatched + dt.timedelta(days=rng.randrange(1, 9)) if i % 3 else None
            db.session.add(Appeal(
                enterprise_id=enterprise_id, category=categories[i % 2], channel=["window", "salon", "online"][i % 3],
                content="诉求", state="replied" if replied else "in_progress", recorded_by=clerk,
                recording_unit_id=station.id, lead_unit_id=units[i % 2].id if i % 7 else None,
                dispatched_at=dispatched, signed_in_time=rng.random() < 0.7, replied_at=replied,
                reply_outcome="resolved" if replied else None, replied_in_time=bool(replied) and rng.random() < 0.8,
                satisfaction="satisfied" if replied and i % 2 else None))
        db.session.commit()
        kept = rollups.stored(db.session)
        assert kept and kept == rollups.recomputed(db.session)
        db.session.remove()  # its open read would hold DROP TABLE back on PostgreSQL
        downgrade(revision="0011_jobs")
        upgrade()
        assert rollups.stored(db.session) == kept
        db.session.remove()
        db.engine.dispose()


def test_the_flask_db_commands_run_as_run_sh_and_an_operator_type_them(tmp_path):
    """`flask db upgrade` / `flask db current` on the command line, as run.sh runs them (the group is loaded
    lazily so that web workers never import alembic; its options must still reach every subcommand)."""
    import subprocess
    import sys
    from pathlib import Path

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "app.py", "GAOXIN_DATA_DIR": str(tmp_path / "files")}
    env.pop("GAOXIN_TEST_DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask"]
    root = Path(__file__).resolve().parent.parent
    upgraded = subprocess.run([*flask, "db", "upgrade"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    current = subprocess.run([*flask, "db", "--directory", "migrations", "current"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=120)
    assert current.returncode == 0 and "(head)" in current.stdout, current.stderr[-2000:]
    engine = create_engine(url)
    assert {"appeals", "enterprise_accounts", "jobs", "appeal_rollups"} <= set(inspect(engine).get_table_names())
    engine.dispose()
