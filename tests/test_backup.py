"""Backup and restore on the test database (SQLite or PostgreSQL): a restore into an empty database gives the
same rows and files; a restore into a database with rows and a backup into an existing backup are refused."""
import hashlib
import json
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gaoxin.extensions import db as _db
from gaoxin.services.backup import MANIFEST, file_sha256, restore, stored_files, table_counts


def _store(data_dir, content):
    """A file in the data directory the way services.files stores an upload (ab/cd/<sha256>)."""
    sha256 = hashlib.sha256(content).hexdigest()
    path = Path(data_dir) / sha256[:2] / sha256[2:4] / sha256
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return sha256


@pytest.fixture
def some_data(app, make_appeal):
    """Rows in several tables and two stored files; the files are removed again afterwards."""
    make_appeal()
    make_appeal(content="企业反映厂房租金补贴尚未到账。")
    data_dir = app.config["GAOXIN_DATA_DIR"]
    made = [_store(data_dir, f"附件内容 {uuid.uuid4()}".encode()) for _ in range(2)]
    yield made
    for relative, path in stored_files(data_dir).items():
        if relative.rsplit("/", 1)[1] in made:
            path.unlink()


@pytest.fixture
def empty_database(app):
    """(engine, url) of a new empty database of the test database's kind, dropped afterwards."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        target = url.set(database=str(Path(url.database).with_name(f"restore-{uuid.uuid4().hex}.sqlite")))
        engine = create_engine(target)
        yield engine
        engine.dispose()
        os.unlink(target.database)
        return
    name = f"{url.database}_restore"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(url.set(database=name))
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _source_counts():
    with _db.engine.connect() as connection:
        return table_counts(connection)


def test_backup_then_restore_into_an_empty_database_gives_the_same_rows_and_files(
        app, some_data, empty_database, tmp_path):
    result = app.test_cli_runner().invoke(args=["gaoxin", "backup", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "备份完成" in result.output
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text(encoding="utf-8"))
    source_counts = _source_counts()
    assert manifest["tables"] == source_counts and source_counts["appeals"] == 2
    assert {info["sha256"] for info in manifest["files"].values()} >= set(some_data)

    # As an operator would have it after `flask db upgrade` on the new server: the tables, no rows.
    _db.metadata.create_all(empty_database)
    restored_files = tmp_path / "restored-files"
    report = restore(empty_database, restored_files, tmp_path / "b")

    assert report.problems == []
    with empty_database.connect() as connection:
        assert table_counts(connection) == source_counts
        receipts = sorted(connection.execute(text("SELECT content FROM appeals")).scalars())
    assert receipts == sorted(["企业希望了解人才公寓申请条件。", "企业反映厂房租金补贴尚未到账。"])
    restored = stored_files(restored_files)
    for sha256 in some_data:
        path = restored_files / sha256[:2] / sha256[2:4] / sha256
        assert file_sha256(path) == sha256
    assert set(restored) == set(manifest["files"])


def test_restore_into_a_database_with_rows_is_refused_and_changes_nothing(app, some_data, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["gaoxin", "backup", str(tmp_path / "b")]).exit_code == 0
    before = _source_counts()
    data_dir = Path(app.config["GAOXIN_DATA_DIR"])
    files_before = set(stored_files(data_dir))

    result = runner.invoke(args=["gaoxin", "restore", str(tmp_path / "b")])

    assert result.exit_code != 0
    assert "目标数据库不是空的" in result.output and "未做任何改动" in result.output
    assert _source_counts() == before
    assert set(stored_files(data_dir)) == files_before


def test_backup_into_a_directory_that_holds_a_backup_is_refused_unless_replace_is_given(app, some_data, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "b"
    assert runner.invoke(args=["gaoxin", "backup", str(target)]).exit_code == 0
    first = (target / MANIFEST).read_bytes()

    refused = runner.invoke(args=["gaoxin", "backup", str(target)])

    assert refused.exit_code != 0 and "已有一份备份" in refused.output and "--replace" in refused.output
    assert (target / MANIFEST).read_bytes() == first

    replaced = runner.invoke(args=["gaoxin", "backup", "--replace", str(target)])
    assert replaced.exit_code == 0, replaced.output
    assert f"新复制 0 个，{len(json.loads(first)['files'])} 个备份目录里已有" in replaced.output


def test_backup_into_a_directory_with_other_things_is_refused(app, tmp_path):
    (tmp_path / "notes.txt").write_text("别的东西")
    result = app.test_cli_runner().invoke(args=["gaoxin", "backup", "--replace", str(tmp_path)])
    assert result.exit_code != 0 and "不是高新通的备份" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_restore_from_an_unfinished_backup_is_refused(app, empty_database, tmp_path):
    from gaoxin.services.backup import BackupError

    (tmp_path / "database.dump").write_bytes(b"half")
    with pytest.raises(BackupError, match="不是一份完整的备份"):
        restore(empty_database, tmp_path / "files", tmp_path)
    with empty_database.connect() as connection:
        assert table_counts(connection) == {}
