"""The audit log's hash chain: sealed at commit, checked by `flask gaoxin audit-verify` and on the auditor's page,
append-only, archived without breaking; and the auditor's view of refusals (越权尝试, repeated-refusal flag)."""
import json
import re
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import delete, select, text, update

from gaoxin import create_app
from gaoxin.extensions import db as _db
from gaoxin.localtime import local_today
from gaoxin.models import AuditEntry, Role
from gaoxin.models.audit import AuditChain, AuditLogReadOnly
from gaoxin.services import audit
from tests.conftest import PASSWORD, log_in, text_of
from tests.test_audit_log import _plans, captured_sql, rows_of
from tests.test_migrations import empty_database_url  # noqa: F401 - a fixture


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def cli(app):
    """cli("audit-verify", ...) → click's Result of `flask gaoxin …`, run as the operator would."""
    runner = app.test_cli_runner()

    def run(*args):
        result = runner.invoke(args=["gaoxin", *args])
        _db.session.expire_all()
        return result
    return run


@pytest.fixture
def entries(db):
    """entries(n, action=..., at=..., step=...) → n entries written through record() in one commit, ids returned."""
    def make(n=5, action="logout", at=None, step=timedelta(minutes=1), detail=None, **fields):
        written = []
        for i in range(n):
            entry = audit.record(action, detail=detail or f"第{i + 1}条", **fields)
            if at is not None:
                entry.at = at + i * step
            written.append(entry)
        db.session.commit()
        return [e.id for e in written]
    return make


def tamper(db, sql, **params):
    """Change the table behind the application's back, as someone with database access would."""
    db.session.execute(text(sql), params)
    db.session.commit()


# --- sealing -----------------------------------------------------------------------------------------------

def test_every_commit_chains_its_entries_onto_the_last_one(db, entries):
    entries(3)
    entries(2)
    rows = db.session.execute(select(AuditEntry.seq, AuditEntry.prev_hash, AuditEntry.hash).order_by(AuditEntry.id)).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == "0" * 64
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))
    head = db.session.get(AuditChain, 1)
    assert (head.seq, head.hash) == (5, rows[-1].hash)


def test_a_rolled_back_entry_leaves_no_gap(db, entries):
    entries(1)
    audit.record("logout", detail="rolled back")
    db.session.flush()
    db.session.rollback()
    entries(1)
    assert db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all() == [1, 2]
    assert audit.verify_chain().ok


def test_concurrent_writers_never_fork_the_chain(app, db):
    """Several workers committing at once: one unbroken chain, every seq once (the head row serialises sealing)."""
    errors = []

    def worker(n):
        try:
            with app.app_context():
                for i in range(15):
                    audit.record("logout", detail=f"worker {n} #{i}", username=f"w{n}")
                    _db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all() == list(range(1, 61))
    assert audit.verify_chain().ok


def test_record_names_an_object_that_was_never_loaded(db, login_as, client):
    entry = audit.record("access_denied", result="denied", detail="appeal.view", object_type="Appeal", object_id=42)
    db.session.commit()
    assert (entry.object_type, entry.object_id, entry.object_title) == ("Appeal", "42", "诉求 #42")
    assert audit.verify_chain().ok


# --- checking: the command and the auditor's page ----------------------------------------------------------

def test_chain_is_intact_after_normal_use(client, login_as, make_user, cli):
    clerk = make_user(Role.clerk)
    log_in(client, clerk.username, "wrong-password")
    login_as(clerk)
    assert client.get("/audit").status_code == 403
    client.post("/logout")
    login_as(Role.auditor)
    result = cli("audit-verify")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("审计链完整：共 ")
    page = text_of(client.get("/audit"))
    assert "审计链完整" in page and "不完整" not in page


def test_the_page_says_unchecked_until_the_first_check(client, login_as):
    login_as(Role.auditor)
    assert "尚未校验" in text_of(client.get("/audit"))


def _first_broken(output):
    return re.search(r"审计链不完整：记录 #(\d+)", output)


@pytest.mark.parametrize("tampering, broken_at, words", [
    ("UPDATE audit_entries SET detail = '无' WHERE id = {2}", 2, "内容与哈希不符"),
    ("UPDATE audit_entries SET at = '2020-01-01 00:00:00' WHERE id = {1}", 1, "内容与哈希不符"),
    ("DELETE FROM audit_entries WHERE id = {2}", 3, "之前缺少序号 3 的记录"),
    ("UPDATE audit_entries SET seq = seq + 100 WHERE id = {2}", 3, "之前缺少序号 3 的记录"),
])
def test_an_edited_or_deleted_entry_is_named_by_the_command_and_the_page_says_broken(
        client, login_as, db, entries, cli, tampering, broken_at, words):
    ids = entries(5)
    login_as(Role.auditor)
    tamper(db, tampering.format(*ids))
    result = cli("audit-verify")
    assert result.exit_code == 1
    first = _first_broken(result.output)
    assert first and int(first.group(1)) == ids[broken_at], result.output
    assert words in result.output.splitlines()[0]
    page = text_of(client.get("/audit"))
    assert "审计链不完整" in page and f"记录 #{ids[broken_at]}" in page


def test_deleting_the_newest_entries_is_noticed(db, entries, cli):
    entries(5)
    tamper(db, "DELETE FROM audit_entries WHERE seq >= 4")
    result = cli("audit-verify")
    assert result.exit_code == 1 and "序号 4–5 的记录缺失（最新的记录被删除）" in result.output


def test_rewinding_the_head_to_hide_deleted_entries_is_noticed(db, entries, cli):
    ids = entries(5)
    third = db.session.get(AuditEntry, ids[2])
    tamper(db, "DELETE FROM audit_entries WHERE seq > 3")
    tamper(db, "UPDATE audit_chain SET seq = 3, hash = :hash", hash=third.hash)
    result = cli("audit-verify")
    assert result.exit_code == 1 and "链头被改动" in result.output


@pytest.mark.parametrize("appended", [False, True])
def test_a_forged_entry_is_named(db, entries, cli, client, login_as, appended):
    entries(5)
    login_as(Role.auditor)
    head = db.session.get(AuditChain, 1)
    tamper(db, "INSERT INTO audit_entries (at, username, action, result, detail, seq, prev_hash, hash) "
               "VALUES (:at, 'sysadmin', 'login', 'ok', '伪造', :seq, :prev, :hash)",
           at=datetime(2026, 1, 1), seq=head.seq + 1 if appended else None, prev=head.hash, hash="f" * 64)
    forged = db.session.scalar(select(AuditEntry.id).where(AuditEntry.detail == "伪造"))
    result = cli("audit-verify")
    assert result.exit_code == 1 and result.output, repr(result.exception)
    assert f"记录 #{forged}" in result.output.splitlines()[0]
    assert ("内容与哈希不符" if appended else "未封存") in result.output
    assert "审计链不完整" in text_of(client.get("/audit"))


def test_the_auditor_checks_now_from_the_page_and_the_check_is_audited(client, login_as, db, entries):
    ids = entries(3)
    auditor = login_as(Role.auditor)
    tamper(db, "UPDATE audit_entries SET detail = '无' WHERE id = :id", id=ids[1])
    fragment = client.post("/audit/verify", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="chain-status"') and "<html" not in body
    assert "审计链不完整" in body and f"记录 #{ids[1]}" in body
    check = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit_verified"))
    assert (check.username, check.result) == (auditor.username, "failed")
    plain = client.post("/audit/verify")
    assert plain.status_code == 302 and plain.headers["Location"].endswith("/audit")


@pytest.mark.parametrize("role", [Role.sysadmin, Role.secadmin, Role.clerk])
def test_only_the_auditor_may_check_the_chain(client, login_as, db, role):
    login_as(role)
    assert client.post("/audit/verify").status_code == 403
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit_verified")) is None


def test_a_forged_intact_verdict_shows_as_broken(client, login_as, db, entries, cli):
    ids = entries(3)
    tamper(db, "UPDATE audit_entries SET detail = '无' WHERE id = :id", id=ids[1])
    assert cli("audit-verify").exit_code == 1
    tamper(db, "UPDATE audit_chain SET verified_ok = :yes, verified_message = '审计链完整'", yes=True)
    login_as(Role.auditor)
    page = text_of(client.get("/audit"))
    assert "审计链不完整" in page and "校验结果记录被改动" in page


# --- append-only ------------------------------------------------------------------------------------------

def test_the_application_cannot_edit_or_delete_an_entry(db, entries):
    (entry_id,) = entries(1)
    entry = db.session.get(AuditEntry, entry_id)
    entry.detail = "改过"
    with pytest.raises(AuditLogReadOnly):
        db.session.commit()
    db.session.rollback()
    entry = db.session.get(AuditEntry, entry_id)
    entry.hash = "0" * 64
    with pytest.raises(AuditLogReadOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry_id))
    with pytest.raises(AuditLogReadOnly):
        db.session.commit()
    db.session.rollback()
    for statement in (update(AuditEntry).values(detail="改过"), delete(AuditEntry),
                      update(AuditEntry.__table__).values(detail="改过"), delete(AuditEntry.__table__)):
        with pytest.raises(AuditLogReadOnly):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.get(AuditEntry, entry_id).detail == "第1条"
    assert audit.verify_chain().ok


def test_no_code_path_writes_sql_that_changes_or_deletes_entries():
    """Only the archive command deletes (with the option the guard lets through); nothing updates."""
    root = Path(__file__).resolve().parent.parent / "gaoxin"
    pattern = re.compile(r"(update|delete\s+from)\s+[\"`]?audit_entries|(update|delete)\(\s*(AuditEntry|_TABLE)"
                         r"|ARCHIVE_OPTION|gaoxin_audit_archive|_gaoxin_sealing", re.I)
    found = {}
    for path in root.rglob("*.py"):
        hits = [m.group(0) for m in pattern.finditer(path.read_text(encoding="utf-8"))]
        if hits:
            found[str(path.relative_to(root))] = hits
    assert set(found) == {"models/audit.py", "services/audit.py"}, found
    archive_deletes = [h for h in found["services/audit.py"] if h.lower().startswith("delete")]
    assert archive_deletes == ["delete(AuditEntry"], found


# --- archiving ----------------------------------------------------------------------------------------------

def _archive_date(months_back=7):
    today = local_today()
    return today.replace(day=1) - timedelta(days=31 * (months_back - 1))


def test_archive_moves_old_entries_to_a_file_and_both_still_verify(db, entries, cli, tmp_path, client, login_as):
    before = _archive_date()
    old_start = datetime(before.year - 1, 6, 1, tzinfo=timezone.utc)
    entries(4, at=old_start, detail="旧记录")
    entries(3)
    path = tmp_path / "audit-1.jsonl"
    result = cli("audit-archive", "--before", before.isoformat(), str(path))
    assert result.exit_code == 0, result.output
    assert "已归档 4 条记录（序号 1–4）" in result.output
    assert db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all() == [5, 6, 7, 8]
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["type"] for line in lines] == ["start", "entry", "entry", "entry", "entry", "end"]
    assert lines[1]["detail"] == "旧记录" and lines[1]["hash"] and lines[-1]["seq"] == 4
    archived = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit_archived"))
    assert "序号 1–4" in archived.detail
    table = cli("audit-verify")
    assert table.exit_code == 0 and "序号 5–" in table.output, table.output
    archive = cli("audit-verify", str(path))
    assert archive.exit_code == 0 and "共 4 条记录（序号 1–4）" in archive.output, archive.output
    login_as(Role.auditor)
    assert "审计链完整" in text_of(client.get("/audit"))


def test_a_second_archive_continues_from_the_first(db, entries, cli, tmp_path):
    before = _archive_date()
    entries(2, at=datetime(before.year - 1, 1, 1, tzinfo=timezone.utc))
    entries(2, at=datetime(before.year - 1, 3, 1, tzinfo=timezone.utc))
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert cli("audit-archive", "--before", f"{before.year - 1}-02-01", str(first)).exit_code == 0
    assert cli("audit-archive", "--before", before.isoformat(), str(second)).exit_code == 0
    start = json.loads(second.read_text(encoding="utf-8").splitlines()[0])
    end = json.loads(first.read_text(encoding="utf-8").splitlines()[-1])
    assert (start["seq"], start["hash"]) == (end["seq"], end["hash"])
    assert cli("audit-verify", str(first), str(second)).exit_code == 0
    assert cli("audit-verify").exit_code == 0


@pytest.mark.parametrize("damage, words", [
    (lambda lines: lines[:2] + [lines[2].replace("第2条", "无")] + lines[3:], "（序号 2，"),
    (lambda lines: lines[:2] + lines[3:], "之前缺少序号 2 的记录"),
    (lambda lines: lines[:-2] + lines[-1:], "与最后一条记录不符"),
    (lambda lines: lines[:-1], "缺少开头或结尾的锚点"),
])
def test_a_damaged_archive_file_is_named(db, entries, cli, tmp_path, damage, words):
    before = _archive_date()
    entries(3, at=datetime(before.year - 1, 1, 1, tzinfo=timezone.utc))
    path = tmp_path / "audit.jsonl"
    assert cli("audit-archive", "--before", before.isoformat(), str(path)).exit_code == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(damage(lines)) + "\n", encoding="utf-8")
    result = cli("audit-verify", str(path))
    assert result.exit_code == 1 and words in result.output, result.output


def test_archive_refuses_entries_younger_than_six_months(db, entries, cli, tmp_path):
    entries(3, at=datetime.now(timezone.utc) - timedelta(days=200))
    too_young = local_today() - timedelta(days=150)
    path = tmp_path / "audit.jsonl"
    result = cli("audit-archive", "--before", too_young.isoformat(), str(path))
    assert result.exit_code != 0 and "至少保存六个月" in result.output
    assert not path.exists() and len(db.session.scalars(select(AuditEntry)).all()) == 3


def test_archive_refuses_a_broken_chain_and_an_existing_file(db, entries, cli, tmp_path):
    ids = entries(3, at=datetime(_archive_date().year - 1, 1, 1, tzinfo=timezone.utc))
    existing = tmp_path / "exists.jsonl"
    existing.write_text("keep\n", encoding="utf-8")
    result = cli("audit-archive", "--before", _archive_date().isoformat(), str(existing))
    assert result.exit_code != 0 and "文件已存在" in result.output and existing.read_text() == "keep\n"
    tamper(db, "UPDATE audit_entries SET detail = '无' WHERE id = :id", id=ids[1])
    path = tmp_path / "audit.jsonl"
    result = cli("audit-archive", "--before", _archive_date().isoformat(), str(path))
    assert result.exit_code != 0 and "链不完整时不能归档" in result.output
    assert not path.exists() and len(db.session.scalars(select(AuditEntry)).all()) == 3


def test_retention_is_six_calendar_months_and_never_under_180_days():
    from datetime import date

    assert audit.retention_limit(date(2026, 12, 1)) == date(2026, 6, 1)
    assert audit.retention_limit(date(2026, 8, 31)) == date(2026, 2, 28)
    assert all((day - audit.retention_limit(day)).days >= 180
               for day in (date(2026, 3, 1), date(2026, 8, 31), date(2027, 1, 1)))


# --- 越权尝试 ---------------------------------------------------------------------------------------------

@pytest.fixture
def denials(db, make_user):
    """denials(user, n, start, step) → n access_denied entries by `user`, written through record()."""
    def make(user, n, start, step):
        for i in range(n):
            entry = audit.record("access_denied", result="denied", detail="appeal.view", user=user,
                                 object_type="Appeal", object_id=100 + i)
            entry.at = start + i * step
        db.session.commit()
    return make


def test_the_denials_filter_lists_only_refusals(client, login_as, make_user, denials, entries):
    clerk = make_user(Role.clerk)
    denials(clerk, 2, utc(2026, 3, 1, 2, 0), timedelta(minutes=1))
    entries(2, action="logout", at=utc(2026, 3, 1, 2, 0))
    login_as(Role.auditor)
    page = client.get("/audit").get_data(as_text=True)
    assert 'href="/audit?action=access_denied">越权尝试</a>' in page
    rows = rows_of(client.get("/audit?action=access_denied&date_to=2026-03-02"))
    assert len(rows) == 2
    assert all(re.search(rf"{clerk.username}\s+越权尝试 诉求 #10\d 拒绝 查看诉求（appeal.view）", row) for row in rows), rows


def test_a_user_refused_twenty_times_within_ten_minutes_is_flagged(client, login_as, make_user, denials):
    start = utc(2026, 3, 1, 2, 0)
    prober, slow, few = make_user(Role.handler), make_user(Role.handler), make_user(Role.clerk)
    denials(prober, 5, start - timedelta(hours=3), timedelta(minutes=30))
    denials(prober, 20, start + timedelta(hours=1), timedelta(seconds=30))  # 20 within 9.5 minutes
    denials(slow, 25, start, timedelta(seconds=32))  # any 20 span 10 min 8 s
    denials(few, 19, start, timedelta(seconds=5))
    login_as(Role.auditor)
    response = client.get("/audit?action=access_denied&date_from=2026-03-01&date_to=2026-03-01")
    flagged = text_of(response).split("频繁越权：", 1)[1].split("时间 用户", 1)[0]
    assert prober.username in flagged and "期间共 25 次越权尝试" in flagged
    assert "2026-03-01 11:09:30 首次达到该频率" in flagged
    assert slow.username not in flagged and few.username not in flagged
    # Outside the period the burst does not count.
    other_day = text_of(client.get("/audit?action=access_denied&date_from=2026-03-02&date_to=2026-03-03"))
    assert prober.username not in other_day.split("频繁越权：", 1)[1].split("时间 用户", 1)[0]
    assert "没有用户达到该频率" in other_day
    # The flag belongs to the 越权尝试 filter only.
    assert "频繁越权：" not in text_of(client.get("/audit?date_from=2026-03-01"))


def test_the_flag_is_one_query_through_the_action_at_index(client, login_as, make_user, denials, entries, db):
    """Refusals are a small part of the log: the flag reads them through (action, at), not every entry of the period."""
    denials(make_user(Role.clerk), 3, utc(2026, 3, 1, 2, 0), timedelta(seconds=10))
    entries(400, at=utc(2026, 3, 1, 2, 0), step=timedelta(seconds=5), user=make_user(Role.handler))
    if db.engine.dialect.name == "postgresql":
        tamper(db, "ANALYZE audit_entries")
    login_as(Role.auditor)
    with captured_sql(db) as statements:
        assert client.get("/audit?action=access_denied&date_from=2026-03-01").status_code == 200
    plans = _plans(db, statements)
    assert len(plans) == 2  # the page of entries and the flag
    for plan in plans:
        assert "ix_audit_entries_action_at" in plan, plan


# --- migration ----------------------------------------------------------------------------------------------

def test_the_migration_seals_the_entries_written_before_it(empty_database_url, tmp_path):  # noqa: F811
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url,
                      "GAOXIN_DATA_DIR": str(tmp_path)})
    with app.app_context():
        upgrade(revision="0003_password_policy")
        with _db.engine.begin() as conn:
            for i in range(3):
                conn.execute(text("INSERT INTO audit_entries (at, username, action, result, detail) "
                                  "VALUES (:at, 'sysadmin', 'login', 'ok', :detail)"),
                             {"at": datetime(2026, 1, 1, 8, i, 0, 123456), "detail": f"旧{i}"})
        upgrade()
        assert _db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.id)).all() == [1, 2, 3]
        check = audit.verify_chain()
        assert check.ok and check.count == 3, check.summary
        audit.record("login", username="auditor")
        _db.session.commit()
        assert audit.verify_chain().ok
        _db.session.remove()
        _db.engine.dispose()


def test_a_reset_followed_by_a_login_from_the_admins_address_is_shown(client, login_as, make_user, db):
    admin, victim, other = make_user(Role.sysadmin), make_user(Role.clerk), make_user(Role.clerk)
    start = datetime.now(timezone.utc) - timedelta(hours=2)

    def entry(action, by, target, ip, minutes):
        written = audit.record(action, target, user=by)
        written.ip, written.at = ip, start + timedelta(minutes=minutes)

    entry("password_reset", admin, victim, "10.9.9.9", 0)
    entry("login", victim, victim, "10.9.9.9", 5)
    entry("password_reset", admin, other, "10.9.9.9", 10)
    entry("login", other, other, "10.1.1.1", 15)
    db.session.commit()
    login_as(Role.auditor)
    page = client.get("/audit")
    assert "可疑的密码重置" not in text_of(page) and 'href="/audit?action=password_reset">重置密码</a>' in page.get_data(
        as_text=True)
    panel = text_of(client.get("/audit?action=password_reset")).split("可疑的密码重置：", 1)[1].split("时间 用户", 1)[0]
    assert f"{admin.username} 从 10.9.9.9 重置了用户 #{victim.id}的密码" in panel
    assert f"{victim.username} 从同一地址登录" in panel and f"用户 #{other.id}" not in panel
