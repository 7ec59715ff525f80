"""Time and peak memory of writing 100,000 appeal rows to XLSX (xlsxwriter, constant-memory mode) and to CSV,
with the exports service's own writer, over the database of gen_appeals.py.

    .venv/bin/python bench/bench_export.py --db sqlite --rows 100000

What it measures: reading the rows (one query, streamed in batches), shaping them like the appeals export
(`views/exports._appeal_cells`: enterprise, category and department names joined), neutralising every cell
and writing the file. It prints seconds, the file size and the process's peak resident memory growth
(ru_maxrss) for each format. Target: ≤ 10 s and ≤ 150 MB peak. (The web route exports at most 10,000 rows
inside a request; a background export of more is not built yet.)
"""
import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench.gen_appeals import PG, SQLITE_PATH  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    return parser.parse_args()


def database_url(kind):
    if kind == "sqlite":
        return f"sqlite:///{SQLITE_PATH}"
    return f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{PG['dbname']}"


def rows(db, limit):
    """The appeals export's cells, streamed from one query."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from gaoxin.models import Appeal, AppealCategory, Enterprise, Unit
    from gaoxin.models.appeal import Channel
    from gaoxin.workflow import AppealState

    lead = aliased(Unit)
    query = (select(Appeal.receipt_no, Enterprise.name, AppealCategory.name, Appeal.channel, lead.name, Appeal.state,
                    Appeal.sign_due_on, Appeal.due_on, Appeal.created_at)
             .join(Enterprise, Enterprise.id == Appeal.enterprise_id)
             .join(AppealCategory, AppealCategory.id == Appeal.category_id)
             .outerjoin(lead, lead.id == Appeal.lead_unit_id)
             .order_by(Appeal.id).limit(limit).execution_options(yield_per=5000))
    for r in db.session.execute(query):
        yield [r[0], r[1], r[2], Channel(r[3]).title, r[4] or "调度中心", AppealState(r[5]).title, r[6], r[7], r[8]]


def main():
    args = parse_args()
    from gaoxin import create_app
    from gaoxin.extensions import db
    from gaoxin.services import exports
    from gaoxin.views.exports import APPEAL_HEADERS

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(args.db), "SECRET_KEY": "bench"})
    worst_s, worst_mb = 0, 0
    with app.app_context():
        for fmt in ("xlsx", "csv"):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            load = os.getloadavg()[0]
            started, started_cpu = time.perf_counter(), time.process_time()
            table = exports.Table("诉求", APPEAL_HEADERS, rows(db, args.rows))
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, f"export.{fmt}")
                if fmt == "xlsx":
                    exports.write_xlsx(table, path)
                else:
                    with open(path, "wb") as out:
                        for chunk in exports.csv_chunks(table):
                            out.write(chunk)
                size = os.path.getsize(path) / 1024 / 1024
            seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
            worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, grown)
            print(f"{fmt}: {args.rows:,} rows in {seconds:.1f} s wall, {cpu:.1f} s CPU (load average {load:.1f}), "
                  f"{size:.1f} MB file, peak RSS grew {grown:.0f} MB "
                  f"(process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    print(f"worst {worst_s:.1f} s (target 10 s), worst peak growth {worst_mb:.0f} MB (target 150 MB)")
    return 0 if worst_s <= 10 and worst_mb <= 150 else 1


if __name__ == "__main__":
    sys.exit(main())
