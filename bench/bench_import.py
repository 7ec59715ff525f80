"""Benchmark: import the realistic 220,000-row registry export (gen_registry.py: 经营范围, 登记状态, ~124 MB) into a fresh database.

    .venv/bin/python bench/bench_import.py [--rows 220000] [--postgres] [--xlsx] [--simple]

Runs the same code as the upload page (services.imports.run_import on the file's path: read from disk as it
goes, check every row, upsert in batches with a commit per batch), then imports the same file a second time
(idempotent: nothing created or updated), and prints both wall and CPU times with the load average (the
machine may be shared: the load says how much of the wall time was waiting). Targets: the first import
≤ 60 s wall on SQLite and on PostgreSQL on a quiet machine, the second ≤ 15 s. `--simple` uses the old
8-column file without 经营范围.
"""
import argparse
import csv
import io
import os
import time

from gen_registry import registry_file
from gen_registry import registry_xlsx as full_registry_xlsx
from registry_db import OUT, make_app, postgres_url, sqlite_url

HEADER = ["企业名称", "统一社会信用代码", "法定代表人", "住所", "行业门类", "企业规模", "联系人", "联系电话"]
SIZE_TITLES = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}


def registry_csv(rows):
    """The registry export as the market regulator's CSV (UTF-8 with BOM); cached under bench/out/."""
    from gaoxin.demo_data import enterprise_rows

    path = OUT / f"registry-{rows}.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for r in enterprise_rows(rows):
            writer.writerow([r["name"], r["credit_code"], r["legal_rep"], r["address"], r["industry"],
                             SIZE_TITLES[r["size"]], r["contact_name"], r["contact_mobile"]])
        path.write_bytes(out.getvalue().encode("utf-8-sig"))
    return path


def registry_xlsx(rows):
    """The same registry as XLSX (written by xlsxwriter); cached under bench/out/."""
    import xlsxwriter

    path = OUT / f"registry-{rows}.xlsx"
    if not path.exists():
        workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = workbook.add_worksheet()
        with open(registry_csv(rows), encoding="utf-8-sig", newline="") as f:
            for index, values in enumerate(csv.reader(f)):
                sheet.write_row(index, 0, values)
        workbook.close()
    return path


def server_cpu(url):
    """CPU seconds used so far by the PostgreSQL backends serving the bench database (read from /proc: the server
    runs on this machine), or None for SQLite, whose work is inside this process."""
    if not url.startswith("postgresql"):
        return None
    from sqlalchemy import text

    from gaoxin.extensions import db

    name = url.rsplit("/", 1)[-1]
    pids = db.session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": name}).scalars()
    ticks = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=220_000)
    parser.add_argument("--postgres", action="store_true", help="import into PostgreSQL (gaoxin_bench) instead of SQLite")
    parser.add_argument("--xlsx", action="store_true", help="import the XLSX version of the file")
    parser.add_argument("--simple", action="store_true", help="the 8-column file without 经营范围 (the old benchmark)")
    args = parser.parse_args()

    if args.simple:
        path = registry_xlsx(args.rows) if args.xlsx else registry_csv(args.rows)
    else:
        path = full_registry_xlsx(args.rows) if args.xlsx else registry_file(args.rows)
    size = path.stat().st_size
    if args.postgres:
        import registry_db

        # Its own database: gaoxin_bench holds bench_search's registry, which this run would drop.
        registry_db.PG_DATABASE = "gaoxin_bench_import"
        url = postgres_url(fresh=True)
    else:
        for suffix in ("", "-wal", "-shm"):
            (OUT / f"import.sqlite{suffix}").unlink(missing_ok=True)
        url = sqlite_url("import.sqlite")
    app = make_app(url)

    from gaoxin.extensions import db
    from gaoxin.models import ImportJob
    from gaoxin.services import imports

    from registry_db import ensure_user

    with app.app_context():
        db.create_all()
        user = ensure_user("bench_admin", "sysadmin")
        print(f"{path.name}: {size / 1e6:.1f} MB, {args.rows} rows → {url.split('@')[-1]}")
        jobs = []
        for attempt in ("first import", "second import (same file)"):
            job = imports.create_job(user, path.name)
            db.session.commit()
            server = server_cpu(url)
            load, started, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
            imports.run_import(job.id, path)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            if server is not None:
                server = server_cpu(url) - server
            job = db.session.get(ImportJob, job.id)
            where = "" if server is None else f" + {server:.1f} s CPU in the PostgreSQL backend"
            print(f"  {attempt}: {elapsed:.1f} s wall, {cpu:.1f} s CPU in this process{where}; load average {load:.1f} → "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs — {job.status}, created {job.created_count}, "
                  f"updated {job.updated_count}, refused {job.refused_count}, rows {job.processed_rows}")
            jobs.append(job)
        first, second = jobs
        assert first.status == "done" and first.created_count > 0, f"the first import created nothing ({first.status})"
        # Idempotent on the credit code: the same file again reads every row and changes none.
        assert second.status == "done" and second.processed_rows == first.processed_rows, second.status
        assert (second.created_count, second.updated_count) == (0, 0), \
            f"the second import of the same file created {second.created_count} and updated {second.updated_count}"
        print("  second import created and updated nothing: idempotent")


if __name__ == "__main__":
    main()
