"""Generate the whole zone into one named PostgreSQL database with COPY: registry, appeals, applications.

    .venv/bin/python bench/gen_zone.py                                  # gaoxin_bench_zone: 220k / 300k / 200k
    .venv/bin/python bench/gen_zone.py --dbname gaoxin_zone_1m --appeals 1000000

The rows are the ones bench/gen_appeals.py and bench/gen_applications.py make (same generators, same
seed), written with COPY instead of executemany; the registry goes in the way the upload page imports it
(services.enterprises.upsert_rows, itself COPY on PostgreSQL). The database is dropped and recreated
(UTF8, C.UTF-8, as scripts/pg_testdb.py makes them), its tables made with create_all(), then VACUUM ANALYZE.
"""
import argparse
import random
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import gen_appeals  # noqa: E402
import gen_applications  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dbname", default="gaoxin_bench_zone")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5432")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--enterprises", type=int, default=220_000)
    parser.add_argument("--appeals", type=int, default=300_000)
    parser.add_argument("--applications", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def log(message, started):
    print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)


def copy_rows(connection, table, columns, rows):
    """COPY tuples into `table` through psycopg (no SQLAlchemy work per row)."""
    cursor = connection.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def appeals(db, count, enterprise_ids, seed, started):
    from gaoxin.services.calendar import today

    org = gen_appeals.setup_org(db)
    generator = gen_appeals.Generator(org, enterprise_ids, random.Random(seed), today(),
                                      datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None))
    columns = gen_appeals.APPEAL_COLUMNS
    connection = db.session.connection()
    copy_rows(connection, "appeals", columns,
              (tuple(row[c] for c in columns) for row in (generator.appeal(i) for i in range(1, count + 1))))
    copy_rows(connection, "appeal_co_handlers", ("appeal_id", "unit_id", "opinion", "opinion_at", "opinion_by_id"),
              generator.co_rows)
    copy_rows(connection, "events", ("appeal_id", "at", "action", "actor_id", "actor_unit_id", "from_state",
                                     "to_state", "comment", "public"), generator.event_rows)
    copy_rows(connection, "appeal_extensions", ("appeal_id", "days", "reason", "status", "requested_by_id",
                                                "requested_at"), generator.extension_rows)
    db.session.commit()
    log(f"{count} appeals, {len(generator.co_rows)} co-handlers, {len(generator.event_rows)} return events", started)


def applications(db, count, enterprise_ids, seed, started):
    from gaoxin.models import Unit, UnitKind
    from gaoxin.services import demo
    from gaoxin.services.calendar import today

    on = today()
    # The units and users are there already (setup_org made them).
    with mock.patch.object(demo, "create_units", lambda: None), mock.patch.object(demo, "create_users", lambda: None):
        policies, staff = gen_applications.setup_catalogue(db, on)
    window = db.session.query(Unit).filter_by(kind=UnitKind.window.value).one()
    generator = gen_applications.Generator(policies, staff, enterprise_ids, random.Random(seed), on, window.id)
    columns = gen_applications.COLUMNS
    copy_rows(db.session.connection(), "applications", columns,
              (tuple(row[c] for c in columns) for row in (generator.row(i) for i in range(1, count + 1))))
    db.session.commit()
    log(f"{count} applications", started)


def main():
    args = parse_args()
    started = time.perf_counter()
    url = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pg_testdb.py"), "--create", args.host, args.port, args.user,
         args.dbname], check=True, capture_output=True, text=True).stdout.strip()
    app = gen_appeals.make_app(url)
    from gaoxin.extensions import db
    from gaoxin.models import Enterprise
    from gaoxin.services.enterprises import load_demo_enterprises

    with app.app_context():
        db.create_all()
        load_demo_enterprises(args.enterprises)
        db.session.commit()
        enterprise_ids = [i for (i,) in db.session.query(Enterprise.id).order_by(Enterprise.id)]
        log(f"{len(enterprise_ids)} enterprises", started)
        appeals(db, args.appeals, enterprise_ids, args.seed, started)
        applications(db, args.applications, enterprise_ids, args.seed, started)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("appeals", "events", "appeal_extensions", "applications"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT coalesce(max(id), 1) FROM {table}))")
            conn.exec_driver_sql("VACUUM ANALYZE")
        log("vacuum analyze", started)
    print(url)


if __name__ == "__main__":
    main()
