"""Backup and restore: the database (pg_dump custom format / SQLite online backup), the content-addressed
files of GAOXIN_DATA_DIR copied incrementally, and a manifest to verify a restore by; raises BackupError."""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from .. import config

#: The manifest is written last: a directory without it holds no finished backup.
MANIFEST = "manifest.json"
#: Bumped when the layout of a backup directory changes.
FORMAT = 1
PG_DUMP_FILE = "database.dump"
SQLITE_FILE = "database.sqlite"
FILES_DIR = "files"
#: An attachment's path under GAOXIN_DATA_DIR: ab/cd/<sha256> (services.files._storage_path).
STORED_FILE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}$")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore refused or failed; the message (Chinese) says why and what was left unchanged."""


@dataclass
class Report:
    """What a backup or restore did, for the command to print."""
    lines: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def step(self, name, started):
        self.timings[name] = round(time.perf_counter() - started, 3)


def stored_files(root):
    """{relative path: Path} of the content-addressed files under `root` (upload temp files are skipped)."""
    root = Path(root)
    if not root.is_dir():
        return {}
    found = {}
    for path in root.glob("??/??/*"):
        relative = path.relative_to(root).as_posix()
        if STORED_FILE.match(relative) and path.is_file():
            found[relative] = path
    return found


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_verified(source, target, expected):
    """Copy `source` to `target` through a temporary name, hashing on the way; refuse a file whose content
    does not match its name (a damaged file is never passed on as good)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(source, "rb") as src, tempfile.NamedTemporaryFile(dir=target.parent, delete=False,
                                                                 prefix=".copy-") as tmp:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            tmp.write(chunk)
    if digest.hexdigest() != expected:
        os.unlink(tmp.name)
        raise BackupError(f"文件 {source} 的内容与其哈希不符（文件已损坏），未复制。")
    os.replace(tmp.name, target)


def table_counts(connection):
    """{table: rows} for every table in the database (alembic_version included), sorted by name."""
    names = sorted(inspect(connection).get_table_names())
    preparer = connection.dialect.identifier_preparer
    return {name: connection.execute(text(f"SELECT count(*) FROM {preparer.quote(name)}")).scalar()
            for name in names}


def _alembic_revision(counts, connection):
    if "alembic_version" not in counts:
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _libpq(url):
    """(libpq connection URI without the password, environment with PGPASSWORD) for pg_dump / pg_restore."""
    url = make_url(url)
    password = url.password
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, config.child_environment(PGPASSWORD=password) if password else None


def _run(command, env):
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} 失败（退出码 {result.returncode}）：{result.stderr.strip()[-2000:]}")


def _prepare_target(target, replace):
    """An empty or new directory; a finished backup only with `replace` (its manifest is removed first, so
    that a run that dies half-way leaves a directory that restore refuses, never a mixed one)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} 不是目录。")
    if target.is_dir() and any(target.iterdir()):
        is_backup = (target / MANIFEST).exists() or (target / PG_DUMP_FILE).exists() or (target / SQLITE_FILE).exists()
        if not is_backup:
            raise BackupError(f"目录 {target} 不是空的，也不是高新通的备份：请换一个新目录。")
        if not replace:
            raise BackupError(f"目录 {target} 里已有一份备份，未做任何改动。请换一个新目录（建议按日期命名），"
                              "或加 --replace 以这次备份替换它（附件只补齐缺少的）。")
        (target / MANIFEST).unlink(missing_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    return target


def backup(engine, data_dir, target, *, replace=False, app_version=None):
    """Back up the database behind `engine` and the files of `data_dir` into `target`; returns the Report.
    The database goes first: every file a row refers to was on disk before its row committed, so it is
    there when the files are copied afterwards."""
    report = Report()
    target = _prepare_target(target, replace)
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        counts, revision, database_file = _backup_postgres(engine, target)
    elif engine.dialect.name == "sqlite":
        counts, revision, database_file = _backup_sqlite(engine, target)
    else:
        raise BackupError(f"不支持的数据库：{engine.dialect.name}")
    report.step("database", started)

    started = time.perf_counter()
    files, copied = {}, 0
    for relative, source in sorted(stored_files(data_dir).items()):
        sha256 = relative.rsplit("/", 1)[1]
        destination = target / FILES_DIR / relative
        # Content-addressed: a file the target already has under this name is this content.
        if not destination.exists():
            _copy_verified(source, destination, sha256)
            copied += 1
        files[relative] = {"sha256": sha256, "size": destination.stat().st_size}
    report.step("files", started)

    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "app_version": app_version,
        "alembic_revision": revision,
        "database": {"dialect": engine.dialect.name, "file": database_file,
                     "sha256": file_sha256(target / database_file)},
        "tables": counts,
        "files": files,
        "timings": report.timings,
    }
    tmp = target / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, target / MANIFEST)
    report.lines.append(f"数据库：{len(counts)} 张表，共 {sum(counts.values())} 行（{database_file}，"
                        f"{(target / database_file).stat().st_size / 1024 / 1024:.1f} MB）。")
    report.lines.append(f"附件：{len(files)} 个，其中新复制 {copied} 个，{len(files) - copied} 个备份目录里已有。")
    return report


def _backup_postgres(engine, target):
    """Count rows and dump inside one snapshot, so that the manifest's counts are exactly the dump's."""
    uri, env = _libpq(engine.url)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            counts = table_counts(connection)
            revision = _alembic_revision(counts, connection)
            tmp = target / (PG_DUMP_FILE + ".tmp")
            _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={tmp}", uri], env)
            os.replace(tmp, target / PG_DUMP_FILE)
    return counts, revision, PG_DUMP_FILE


def _sqlite_path(url):
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份。")
    return database


def _backup_sqlite(engine, target):
    """The online backup API: a consistent copy while the site keeps writing; counts come from the copy."""
    tmp = target / (SQLITE_FILE + ".tmp")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(_sqlite_path(engine.url), timeout=30)
    destination = sqlite3.connect(tmp)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    os.replace(tmp, target / SQLITE_FILE)
    from sqlalchemy import create_engine

    copy = create_engine(f"sqlite:///{target / SQLITE_FILE}")
    try:
        with copy.connect() as connection:
            counts = table_counts(connection)
            revision = _alembic_revision(counts, connection)
    finally:
        copy.dispose()
    return counts, revision, SQLITE_FILE


def read_manifest(source):
    """The manifest of a finished backup, after checking that its database file and every file are there."""
    source = Path(source)
    path = source / MANIFEST
    if not path.exists():
        raise BackupError(f"{source} 里没有 {MANIFEST}：不是一份完整的备份（可能备份中途失败），未做任何改动。")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')} 不是本版本能恢复的格式 {FORMAT}。")
    database_file = source / manifest["database"]["file"]
    if not database_file.exists() or file_sha256(database_file) != manifest["database"]["sha256"]:
        raise BackupError(f"备份中的数据库文件 {database_file.name} 缺失或已损坏，未做任何改动。")
    missing = [name for name, info in manifest["files"].items()
               if not _has_size(source / FILES_DIR / name, info["size"])]
    if missing:
        raise BackupError(f"备份中缺少附件或附件大小不符（{len(missing)} 个），未做任何改动。")
    return manifest


def _has_size(path, size):
    return path.is_file() and path.stat().st_size == size


def rows_in(engine):
    """Tables that hold rows, {name: count}; an empty database gives {}."""
    with engine.connect() as connection:
        return {name: count for name, count in table_counts(connection).items() if count}


def restore(engine, data_dir, source):
    """Restore the backup in `source` into the empty database behind `engine` and into `data_dir`, then verify
    every table's count and every file's hash against the manifest. Refuses, changing nothing, when the
    database holds any row or the backup is incomplete or of another database kind."""
    report = Report()
    source = Path(source)
    manifest = read_manifest(source)
    dialect = manifest["database"]["dialect"]
    if dialect != engine.dialect.name:
        raise BackupError(f"这份备份来自 {dialect} 数据库，不能恢复到 {engine.dialect.name}；未做任何改动。")
    occupied = rows_in(engine)
    if occupied:
        sample = "、".join(f"{name}（{count} 行）" for name, count in list(occupied.items())[:5])
        raise BackupError(f"目标数据库不是空的：{sample}。恢复只能装入空数据库，未做任何改动。")

    started = time.perf_counter()
    database_file = source / manifest["database"]["file"]
    if dialect == "postgresql":
        uri, env = _libpq(engine.url)
        engine.dispose()
        # --clean drops the empty tables a `flask db upgrade` may have made; the dump creates them again.
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", f"--dbname={uri}", str(database_file)], env)
    else:
        engine.dispose()
        source_db = sqlite3.connect(database_file)
        destination = sqlite3.connect(_sqlite_path(engine.url), timeout=30)
        try:
            source_db.backup(destination)
        finally:
            destination.close()
            source_db.close()
    report.step("database", started)

    started = time.perf_counter()
    data_dir = Path(data_dir)
    copied = 0
    for relative, info in sorted(manifest["files"].items()):
        destination = data_dir / relative
        if destination.exists() and file_sha256(destination) == info["sha256"]:
            continue
        _copy_verified(source / FILES_DIR / relative, destination, info["sha256"])
        copied += 1
    report.step("files", started)

    started = time.perf_counter()
    report.problems = verify(engine, data_dir, manifest)
    report.step("verify", started)
    report.lines.append(f"数据库：{len(manifest['tables'])} 张表，共 {sum(manifest['tables'].values())} 行已恢复。")
    report.lines.append(f"附件：{len(manifest['files'])} 个，复制 {copied} 个。")
    return report


def verify(engine, data_dir, manifest):
    """Differences between the database and files now and the manifest: [] when every table count and every
    file hash agree."""
    problems = []
    with engine.connect() as connection:
        counts = table_counts(connection)
    for name in sorted(set(counts) | set(manifest["tables"])):
        expected, found = manifest["tables"].get(name), counts.get(name)
        if expected != found:
            problems.append(f"表 {name}：备份 {expected} 行，恢复后 {found} 行")
    for relative, info in sorted(manifest["files"].items()):
        path = Path(data_dir) / relative
        if not path.exists():
            problems.append(f"附件 {relative} 缺失")
        elif file_sha256(path) != info["sha256"]:
            problems.append(f"附件 {relative} 的哈希不符")
    return problems
