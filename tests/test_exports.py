"""Exports: an XLSX opened with openpyxl has the page's rows, formulas are neutralised, an empty list gives a
valid file with headers, CSV carries a BOM, only what the user may see is exported, and every export is audited."""
import io

import openpyxl
from sqlalchemy import func, select

from gaoxin.models import AuditEntry, Role
from gaoxin.services.exports import neutralise


def _sheet(response):
    assert response.status_code == 200
    return list(openpyxl.load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))


def test_an_exported_xlsx_has_the_same_rows_as_the_page(client, login_as, make_appeal, make_enterprise):
    for _ in range(3):
        make_appeal()
    login_as(Role.dispatcher)
    page = client.get("/appeals/").get_data(as_text=True)
    rows = _sheet(client.get("/exports/appeals.xlsx"))
    assert rows[0][:3] == ("回执号", "企业", "类别")
    receipts = [r[0] for r in rows[1:]]
    assert len(receipts) == 3 and all(r in page for r in receipts)
    # The same order as the page: newest first.
    assert receipts == sorted(receipts, key=page.index)


def test_an_export_keeps_the_filters_and_only_what_the_user_may_see(client, login_as, make_appeal, make_user):
    mine = make_appeal()
    make_appeal()
    clerk = make_user(Role.clerk, unit=mine.recording_unit)
    login_as(clerk)
    rows = _sheet(client.get("/exports/appeals.xlsx"))
    assert [r[0] for r in rows[1:]] == [mine.receipt_no]
    filtered = _sheet(client.get(f"/exports/appeals.xlsx?receipt={mine.receipt_no}x"))
    assert filtered == [filtered[0]]


def test_an_empty_list_exports_a_valid_file_with_headers(client, login_as):
    login_as(Role.dispatcher)
    rows = _sheet(client.get("/exports/appeals.xlsx?state=closed"))
    assert len(rows) == 1 and rows[0][0] == "回执号"
    csv = client.get("/exports/appeals.csv?state=closed").get_data()
    assert csv.startswith("\ufeff".encode()) and csv.decode("utf-8-sig").startswith("回执号,企业")


def test_cells_starting_like_a_formula_are_neutralised(client, login_as, make_appeal, make_enterprise):
    make_appeal(enterprise=make_enterprise(name="=HYPERLINK(\"http://evil\")"))
    login_as(Role.dispatcher)
    rows = _sheet(client.get("/exports/appeals.xlsx"))
    assert rows[1][1] == "'=HYPERLINK(\"http://evil\")"
    assert [neutralise(v) for v in ("+1", "-1", "@a", "a=b", 5, -5)] == ["'+1", "'-1", "'@a", "a=b", 5, -5]


def test_every_export_is_audited(client, login_as, db):
    login_as(Role.leader)
    client.get("/exports/appeals.csv")
    client.get("/exports/dashboard/departments.xlsx?period=year")
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "data_exported")))
    assert len(entries) == 2 and "CSV" in entries[0].detail and "XLSX" in entries[1].detail


def test_a_dashboard_table_exports_with_the_zone_total(client, login_as, make_appeal):
    make_appeal()
    login_as(Role.leader)
    rows = _sheet(client.get("/exports/dashboard/departments.xlsx?period=year"))
    assert rows[0][0] == "部门" and rows[-1][0] == "全区合计"


def test_an_applications_export_holds_the_lists_rows(client, login_as, make_application):
    application = make_application()
    login_as(Role.window)
    rows = _sheet(client.get("/exports/applications.xlsx"))
    assert [r[0] for r in rows[1:]] == [application.receipt_no]


def test_no_export_for_a_role_that_may_not_see_the_list(client, login_as, db):
    login_as(Role.auditor)
    assert client.get("/exports/appeals.xlsx").status_code == 403
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "data_exported")) == 0


def test_an_inbox_export_holds_the_tabs_rows(client, login_as, make_user, make_appeal, make_category, make_unit):
    from gaoxin.models import UnitKind

    dept = make_unit(UnitKind.department)
    appeal = make_appeal(category=make_category(lead_unit=dept))
    make_appeal()
    login_as(make_user(Role.handler, unit=dept))
    rows = _sheet(client.get("/exports/inbox.xlsx?tab=sign"))
    assert [r[0] for r in rows[1:]] == [appeal.receipt_no]
    assert _sheet(client.get("/exports/inbox.xlsx?tab=replied"))[1:] == []


def test_the_xlsx_writer_keeps_every_cell_as_written(tmp_path):
    """Text with XML's special and control characters, spaces at either end, numbers, empty cells and dates come
    back from the file as the page shows them, on as many rows as were written."""
    import datetime as dt

    from gaoxin.services import exports

    rows = [["甲 & 乙 <公司>", "  前后空格  ", 12, 3.5, None, dt.date(2026, 3, 1), "=1+1", "行\x01尾"]]
    rows += [[f"SQ{i:07d}", "成都", i, 0.25, "", dt.date(2026, 1, 2), "x", "y"] for i in range(2, 2_502)]
    path = tmp_path / "t.xlsx"
    exports.write_xlsx(exports.Table("诉求", list("ABCDEFGH"), iter(rows)), str(path))
    sheet = openpyxl.load_workbook(path, read_only=True).active
    got = list(sheet.iter_rows(values_only=True))
    assert got[0] == tuple("ABCDEFGH")
    # A control character is written as Excel's _xHHHH_ escape (Excel shows the character; openpyxl the escape).
    assert got[1] == ("甲 & 乙 <公司>", "  前后空格  ", 12, 3.5, None, "2026-03-01", "'=1+1", "行_x0001_尾")
    assert len(got) == 2_502 and got[-1] == ("SQ0002501", "成都", 2501, 0.25, None, "2026-01-02", "x", "y")
