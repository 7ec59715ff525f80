"""Backup drill: back a database and its files up with `flask gaoxin backup`, restore them with `flask gaoxin
restore` into a fresh database and data directory, then compare every table's row count in the restored
copy (recounted here) with the source's counts taken in the very snapshot that was dumped, and every
restored file's hash with the source file's, printing what it saw and how long each step took. A live
source that changes meanwhile is reported (rows added since the snapshot), not counted as a difference.

    .venv/bin/python bench/backup_drill.py --db sqlite                 # demo data in a temp SQLite file
    .venv/bin/python bench/backup_drill.py --db postgres               # demo data in gaoxin_drill_source
    .venv/bin/python bench/backup_drill.py --db postgres --source postgresql://postgres@127.0.0.1/gaoxin_bench_zone

The source is only read (a given --source database is never written to). The restored database
(gaoxin_drill_restore, or a temp SQLite file) and the demo source are dropped at the end unless --keep.
Exits 1 when anything differs.
"""
import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import OUT, ROOT  # noqa: E402
from gaoxin.services.backup import file_sha256, stored_files  # noqa: E402

FLASK = str(Path(sys.executable).with_name("flask"))
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def flask(args, database, data_dir):
    """Run `flask <args>` against `database` and `data_dir`; (seconds, output). Stops the drill on failure."""
    env = {**os.environ, "FLASK_APP": "app.py", "DATABASE_URL": database, "GAOXIN_DATA_DIR": str(data_dir),
           "GAOXIN_SECRET_KEY": os.environ.get("GAOXIN_SECRET_KEY", "drill")}
    started = time.perf_counter()
    result = subprocess.run([FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout


def counts(url):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = sorted(inspect(connection).get_table_names())
            return {name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() for name in names}
    finally:
        engine.dispose()


def hashes(data_dir):
    return {relative: file_sha256(path) for relative, path in stored_files(data_dir).items()}


def make_files(data_dir, count):
    """`count` attachments of 1 KB–2 MB stored the way services.files stores uploads."""
    total = 0
    for number in range(count):
        content = os.urandom(1024 * (1 + (number * 37) % 2048))
        sha256 = hashlib.sha256(content).hexdigest()
        path = Path(data_dir) / sha256[:2] / sha256[2:4] / sha256
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        total += len(content)
    return total


def admin(statement):
    engine = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def fresh_postgres(name):
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0")
    return f"{SERVER}/{name}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--source", help="database URL to back up (read only); default: fresh demo data")
    parser.add_argument("--files", type=int, default=300, help="attachments to put in the source data directory")
    parser.add_argument("--keep", action="store_true", help="keep the backup and the restored database")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="backup-drill-", dir=OUT if OUT.exists() else None))
    source_files, restored_files, backup_dir = work / "source-files", work / "restored-files", work / "backup"
    source_files.mkdir()
    cleanup = []
    load_before = os.getloadavg()
    print(f"load average {', '.join(f'{x:.2f}' for x in load_before)} on {os.cpu_count()} CPUs; working in {work}")

    source = args.source
    if source:
        source = source.replace("postgresql://", "postgresql+psycopg://", 1) if source.startswith("postgresql://") else source
    elif args.db == "sqlite":
        source = f"sqlite:///{work / 'source.sqlite'}"
    else:
        source = fresh_postgres("gaoxin_drill_source")
        cleanup.append("gaoxin_drill_source")
    if not args.source:
        seconds, _ = flask(["db", "upgrade"], source, source_files)
        seconds_demo, _ = flask(["gaoxin", "demo"], source, source_files)
        print(f"demo source built in {seconds + seconds_demo:.1f} s (migrations {seconds:.1f} s)")
    size = make_files(source_files, args.files)
    print(f"source: {make_url(source).render_as_string(hide_password=True)}; "
          f"{args.files} attachments, {size / 1024 / 1024:.1f} MB")

    seconds_backup, output = flask(["gaoxin", "backup", str(backup_dir)], source, source_files)
    print(f"backup: {seconds_backup:.1f} s\n  " + output.strip().replace("\n", "\n  "))
    backup_size = sum(p.stat().st_size for p in backup_dir.rglob("*") if p.is_file())
    print(f"  backup directory: {backup_size / 1024 / 1024:.1f} MB")

    if args.db == "sqlite":
        target = f"sqlite:///{work / 'restored.sqlite'}"
    else:
        target = fresh_postgres("gaoxin_drill_restore")
        if not args.keep:
            cleanup.append("gaoxin_drill_restore")
    seconds_restore, output = flask(["gaoxin", "restore", str(backup_dir)], target, restored_files)
    print(f"restore (with its own check against the manifest): {seconds_restore:.1f} s\n  "
          + output.strip().replace("\n", "\n  "))

    started = time.perf_counter()
    manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
    at_backup = manifest["tables"]  # counted in the snapshot pg_dump dumped: the source as it was backed up
    source_counts, target_counts = counts(source), counts(target)
    source_hashes, target_hashes = hashes(source_files), hashes(restored_files)
    print(f"independent comparison: {time.perf_counter() - started:.1f} s")
    differences = [f"table {name}: source at backup {at_backup.get(name)}, restored {target_counts.get(name)}"
                   for name in sorted(set(at_backup) | set(target_counts))
                   if at_backup.get(name) != target_counts.get(name)]
    backed_up = set(manifest["files"])
    differences += [f"file {name}: source {source_hashes.get(name)}, restored {target_hashes.get(name)}"
                    for name in sorted(backed_up | set(target_hashes))
                    if source_hashes.get(name) != target_hashes.get(name)]
    # A live source keeps working while the drill runs: what changed since the snapshot is shown, not failed.
    moved = [f"{name} {at_backup.get(name)} → {source_counts.get(name)}"
             for name in sorted(set(at_backup) | set(source_counts)) if at_backup.get(name) != source_counts.get(name)]
    if moved or set(source_hashes) - backed_up:
        print(f"the source changed since the backup's snapshot (not a fault): {', '.join(moved) or 'no table'}; "
              f"{len(set(source_hashes) - backed_up)} new files")
    biggest = sorted(source_counts.items(), key=lambda item: -item[1])[:6]
    print(f"tables: {len(source_counts)} in the source, {len(target_counts)} restored; "
          f"{sum(source_counts.values())} rows in all; largest: "
          + ", ".join(f"{name} {count}" for name, count in biggest))
    print(f"files: {len(source_hashes)} in the source, {len(target_hashes)} restored, every hash recomputed")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"CPU time of the flask commands (incl. pg_dump/pg_restore): {children.ru_utime + children.ru_stime:.1f} s; "
          f"load average now {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    for name in cleanup:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if not args.keep:
        shutil.rmtree(work)
    if differences:
        print("DIFFERENCES:\n  " + "\n  ".join(differences[:50]))
        sys.exit(1)
    print(f"OK: every table's count and every file's hash match (backup {seconds_backup:.1f} s, "
          f"restore {seconds_restore:.1f} s).")


if __name__ == "__main__":
    main()
