"""The auditor's audit log: China-time display, filters, paging without COUNT, htmx fragment, index use."""
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from gaoxin.models import AuditEntry, Role
from tests.conftest import text_of


@pytest.fixture
def make_entry(db):
    """make_entry(action, at=..., **fields) → a committed AuditEntry."""
    def make(action="login", at=None, **fields):
        entry = AuditEntry(action=action, at=at or datetime.now(timezone.utc), result=fields.pop("result", "ok"), **fields)
        db.session.add(entry)
        db.session.commit()
        return entry
    return make


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def rows_of(response):
    """The audit table's body rows, as text."""
    body = response.get_data(as_text=True).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("</tr>")[:-1]]


@contextmanager
def captured_sql(db):
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def test_auditor_reads_entries_newest_first_in_china_time(client, login_as, make_entry):
    login_as(Role.auditor)
    make_entry("login_failed", at=utc(2026, 3, 1, 16, 30), username="nobody", ip="10.1.2.3",
               result="failed", detail="unknown user")
    make_entry("user_created", at=utc(2026, 3, 2, 1, 0), username="sysadmin", ip="10.1.2.4",
               object_type="User", object_id="42", detail="用户名：liuyang")
    rows = rows_of(client.get("/audit?date_to=2026-03-02"))
    assert rows[0] == "2026-03-02 09:00:00 sysadmin 10.1.2.4 新建用户 用户 #42 成功 用户名：liuyang"
    assert rows[1] == "2026-03-02 00:30:00 nobody 10.1.2.3 登录失败 失败 unknown user"


def test_the_auditors_own_login_is_in_the_log(client, login_as):
    auditor = login_as(Role.auditor)
    rows = rows_of(client.get("/audit"))
    assert any(f"{auditor.username} 127.0.0.1 登录" in row for row in rows)


@pytest.mark.parametrize("query, expected", [
    ("action=lockout", ["c"]),
    ("result=failed", ["b"]),
    ("username=ALI", ["a"]),
    ("object_type=Unit", ["c"]),
    ("object_type=User&object_id=7", ["a"]),
    ("date_from=2026-03-02", ["c", "b"]),
    ("date_to=2026-03-01", ["a"]),
    ("date_from=2026-03-02&date_to=2026-03-02", ["b"]),
    ("action=lockout&date_to=2026-03-02", []),
])
def test_filters_narrow_the_log(client, login_as, make_entry, query, expected):
    login_as(Role.auditor)
    # 2026-03-01 16:30 UTC is already 2 March in China (00:30): dates are China dates.
    make_entry("user_updated", at=utc(2026, 3, 1, 15, 59), username="alice", object_type="User", object_id="7",
               detail="a")
    make_entry("login_failed", at=utc(2026, 3, 1, 16, 30), username="bob", result="failed", detail="b")
    make_entry("lockout", at=utc(2026, 3, 2, 16, 0), username="carol", object_type="Unit", object_id="3",
               result="denied", detail="c")
    rows = rows_of(client.get(f"/audit?{query}"))
    details = [row.split(" ")[-1] for row in rows if row.endswith((" a", " b", " c"))]
    assert details == expected


@pytest.mark.parametrize("query, message", [
    ("date_from=2026-13-01", "日期格式应为“年-月-日”"),
    ("date_from=2026-03-05&date_to=2026-03-01", "结束日期不能早于开始日期。"),
    ("action=no_such_action", "所选项无效"),
])
def test_bad_filters_get_a_chinese_message_and_are_ignored(client, login_as, make_entry, query, message):
    login_as(Role.auditor)
    make_entry("logout", detail="still listed")
    response = client.get(f"/audit?{query}")
    assert response.status_code == 200
    page = text_of(response)
    assert message in page and "still listed" in page


def test_pages_of_fifty_without_counting_the_table(client, login_as, make_entry, db):
    login_as(Role.auditor)
    start = utc(2026, 1, 1)
    for i in range(120):
        db.session.add(AuditEntry(action="logout", at=start + timedelta(minutes=i), username=f"u{i:03d}"))
    db.session.commit()
    with captured_sql(db) as statements:
        first = client.get("/audit?action=logout")
    assert not any("count(" in s.lower() and "audit_entries" in s for s, _ in statements)
    assert len(rows_of(first)) == 50
    assert rows_of(first)[0].split(" ")[2] == "u119"
    page = first.get_data(as_text=True)
    assert 'href="/audit?page=2&amp;action=logout"' in page and "上一页" not in text_of(first)
    third = client.get("/audit?page=3&action=logout")
    assert len(rows_of(third)) == 20 and rows_of(third)[-1].split(" ")[2] == "u000"
    assert "下一页" not in text_of(third) and "上一页" in text_of(third)


def test_plain_form_works_without_javascript_and_htmx_gets_only_the_results(client, login_as, make_entry):
    login_as(Role.auditor)
    make_entry("logout", detail="x")
    page = client.get("/audit").get_data(as_text=True)
    assert re.search(r'<form method="get" action="/audit"', page)
    for name in ("action", "result", "username", "date_from", "date_to", "object_type", "object_id"):
        assert f'<label for="{name}">' in page
    assert 'hx-push-url="true"' in page and page.count("<h1>") == 1
    fragment = client.get("/audit?action=logout", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="results">') and "<html" not in body
    assert "退出登录" in body and "HX-Request" in fragment.headers["Vary"]


def _plans(db, statements):
    """The query plan of each captured SELECT on audit_entries, as one text per statement."""
    plans = []
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            if "FROM audit_entries" not in statement or not statement.lstrip().upper().startswith("SELECT"):
                continue
            if db.engine.dialect.name == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                plans.append(" | ".join(str(r[-1]) for r in rows))
            else:
                # A handful of rows makes a sequential scan cheapest; ask whether the index *can* serve.
                conn.exec_driver_sql("SET enable_seqscan = off")
                rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
                plans.append(" | ".join(r[0] for r in rows))
    return plans


@pytest.mark.parametrize("query, index", [
    ("", "ix_audit_entries_at"),
    ("?date_from=2026-03-01&date_to=2026-03-02", "ix_audit_entries_at"),
    ("?action=login_failed", "ix_audit_entries_action_at"),
    ("?action=login_failed&date_from=2026-03-01", "ix_audit_entries_action_at"),
])
def test_the_log_is_read_through_the_at_and_action_at_indexes(client, login_as, make_entry, db, query, index):
    login_as(Role.auditor)
    make_entry("login_failed")
    with captured_sql(db) as statements:
        assert client.get(f"/audit{query}").status_code == 200
    (plan,) = _plans(db, statements)
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort  " not in plan, plan
