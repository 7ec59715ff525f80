"""Importing the registry export: the per-row report, file-level refusals, idempotence, progress and the CLI."""
import csv
import io
import random
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from gaoxin.demo_data import make_credit_code
from gaoxin.models import AuditEntry, Enterprise, ImportJob, Role
from gaoxin.services import imports
from tests.conftest import text_of

HEADER = ["企业名称", "统一社会信用代码", "法定代表人", "住所", "行业门类", "企业规模", "联系人", "联系电话"]
_rng = random.Random(4754)
CODES = [make_credit_code(_rng) for _ in range(10)]


def row(name="成都蓉光智能科技有限公司", code=CODES[0], legal_rep="周杰", address="成都高新区天府三街199号",
        industry="I", size="小型", contact="陈静", mobile="13900001111"):
    return [name, code, legal_rep, address, industry, size, contact, mobile]


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def admin(login_as):
    return login_as(Role.sysadmin)


def upload(client, data, filename="名录.csv"):
    """Upload a file and follow to the job page; returns (job page response, job)."""
    response = client.post("/enterprises/import", data={"file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    from gaoxin.extensions import db

    job = db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()))
    return page, job


def enterprise_count(db):
    return db.session.scalar(select(func.count(Enterprise.id)))


def by_code(db, code):
    return db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))


def test_a_good_csv_is_imported_with_every_field(client, admin, db):
    page, job = upload(client, csv_bytes([row(), row("成都数联铭品科技有限公司", CODES[1], industry="信息传输、软件和信息技术服务业",
                                                     size="中型", mobile="+86 138-1234-5678")]))
    assert job.status == "done" and (job.created_count, job.updated_count, job.refused_count) == (2, 0, 0)
    assert "新增 2" in text_of(page) and "所有行均已导入" in text_of(page)
    first = by_code(db, CODES[0])
    assert (first.name, first.legal_rep, first.industry, first.size) == ("成都蓉光智能科技有限公司", "周杰", "I", "small")
    assert [(c.name, c.mobile) for c in first.contacts] == [("陈静", "13900001111")]
    second = by_code(db, CODES[1])
    assert second.industry == "I" and second.size == "medium" and second.contacts[0].mobile == "13812345678"
    assert "成都数联铭品科技有限公司" in text_of(client.get("/enterprises?q=slmp"))
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "enterprises_imported")).all()
    assert "新增2" in entry.detail and entry.result == "ok"


def test_a_gbk_csv_is_read_correctly(client, admin, db):
    page, job = upload(client, csv_bytes([row("成都锐成芯微科技股份有限公司")], encoding="gbk"))
    assert job.created_count == 1
    assert by_code(db, CODES[0]).name == "成都锐成芯微科技股份有限公司"


def test_a_utf8_csv_without_bom_and_an_xlsx_are_read_correctly(client, admin, db):
    upload(client, csv_bytes([row()], encoding="utf-8"))
    # Excel stores a typed mobile as a number.
    page, job = upload(client, xlsx_bytes([row("成都硅宝科技股份有限公司", CODES[1], mobile=13812345678)]), "名录.xlsx")
    assert job.status == "done" and job.created_count == 1
    assert by_code(db, CODES[1]).contacts[0].mobile == "13812345678"
    assert enterprise_count(db) == 2


def test_header_aliases_and_a_title_row_above_the_header_are_understood(client, admin, db):
    data = csv_bytes([["名称", "统一社会信用代码", "法人代表", "地址"],
                      ["成都蓉光智能科技有限公司", CODES[0].lower(), "周杰", "天府三街"]], header=["成都高新区市场主体名录（2026年）"])
    page, job = upload(client, data)
    enterprise = by_code(db, CODES[0])
    assert job.created_count == 1 and enterprise.legal_rep == "周杰" and enterprise.address == "天府三街"


@pytest.mark.parametrize("bad_row, column, message", [
    (row(code=CODES[0][:17] + ("0" if CODES[0][17] != "0" else "1")), "统一社会信用代码", "校验位错误"),
    (row(code="9151010"), "统一社会信用代码", "应为18位，当前为7位"),
    (row(code="91510100MA6I2345XX"), "统一社会信用代码", "含有不允许的字符“I”"),
    (row(name="成都" + "很" * 99 + "有限公司"), "企业名称", "企业名称超过100个字（当前105个字）"),
    (row(name=""), "企业名称", "企业名称为空"),
    (row(code=""), "统一社会信用代码", "统一社会信用代码为空"),
    (row(size="特大型"), "企业规模", "企业规模“特大型”无法识别"),
    (row(industry="互联网"), "行业门类", "行业门类“互联网”无法识别"),
    (row(mobile="028-85123456"), "联系电话", "联系电话“028-85123456”不是有效的手机号码"),
])
def test_a_bad_row_is_refused_with_row_column_and_reason_and_the_rest_imported(client, admin, db, bad_row, column, message):
    good = row("成都数联铭品科技有限公司", CODES[1])
    page, job = upload(client, csv_bytes([good, bad_row]))
    assert (job.created_count, job.refused_count) == (1, 1)
    assert imports.job_problems(job)[0][:2] == (3, column)
    text = text_of(page)
    assert "拒绝 1" in text and message in text
    assert enterprise_count(db) == 1 and by_code(db, CODES[1]) is not None


def test_a_code_repeated_in_the_file_is_refused_on_its_second_row(client, admin, db):
    page, job = upload(client, csv_bytes([row("成都甲科技有限公司"), row("成都乙科技有限公司"), row("成都丙科技有限公司", CODES[1])]))
    assert (job.created_count, job.refused_count) == (2, 1)
    assert imports.job_problems(job) == [(3, "统一社会信用代码", "与第2行的统一社会信用代码重复，本行未导入。")]
    assert by_code(db, CODES[0]).name == "成都甲科技有限公司"


def test_an_xlsx_missing_a_required_column_is_refused_whole_and_changes_nothing(client, admin, db, make_enterprise):
    make_enterprise("成都迈普通信技术股份有限公司", CODES[2])
    header = [h for h in HEADER if h != "统一社会信用代码"]
    page, job = upload(client, xlsx_bytes([["成都蓉光智能科技有限公司", "周杰"]], header=header), "名录.xlsx")
    assert job.status == "refused"
    assert "文件缺少必需的列：统一社会信用代码" in text_of(page)
    assert enterprise_count(db) == 1 and job.created_count == 0
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "enterprises_imported")).all()
    assert entry.result == "failed"


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" + bytes(64)


@pytest.mark.parametrize("data", [PNG, random.Random(1).randbytes(4096), b"PK\x03\x04" + random.Random(2).randbytes(500)],
                         ids=["png", "random-bytes", "broken-zip"])
def test_a_file_that_is_not_a_spreadsheet_is_refused_and_changes_nothing(client, admin, db, make_enterprise, data):
    make_enterprise("成都迈普通信技术股份有限公司", CODES[2])
    page, job = upload(client, data, "名录.xlsx")
    assert job.status == "refused"
    assert "文件不是有效的CSV或XLSX表格" in text_of(page)
    assert enterprise_count(db) == 1


def test_a_second_import_of_the_same_file_creates_and_updates_nothing(client, admin, db):
    data = csv_bytes([row(), row("成都数联铭品科技有限公司", CODES[1])])
    upload(client, data)
    before = {e.credit_code: (e.version, e.updated_at) for e in db.session.scalars(select(Enterprise))}
    page, job = upload(client, data)
    assert (job.created_count, job.updated_count, job.refused_count) == (0, 0, 0)
    assert "未变化 2" in text_of(page)
    db.session.expire_all()
    assert {e.credit_code: (e.version, e.updated_at) for e in db.session.scalars(select(Enterprise))} == before


def test_a_later_export_updates_what_changed_and_leaves_blanks_alone(client, admin, db):
    upload(client, csv_bytes([row()]))
    page, job = upload(client, csv_bytes([row(name="成都蓉光智能技术有限公司", legal_rep="", size="中型")]))
    assert (job.created_count, job.updated_count) == (0, 1)
    enterprise = by_code(db, CODES[0])
    assert (enterprise.name, enterprise.legal_rep, enterprise.size) == ("成都蓉光智能技术有限公司", "周杰", "medium")
    assert "成都蓉光智能技术有限公司" in text_of(client.get("/enterprises?q=智能技术"))


def test_the_report_downloads_as_csv_with_bom_and_as_xlsx(client, admin):
    page, job = upload(client, csv_bytes([row(), row(name="")]))
    response = client.get(f"/enterprises/import/{job.id}/report.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")))) == [["行号", "列", "原因"], ["3", "企业名称", "企业名称为空。"]]
    response = client.get(f"/enterprises/import/{job.id}/report.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [["行号", "列", "原因"], [3, "企业名称", "企业名称为空。"]]


def test_a_long_report_is_paged(client, admin, monkeypatch):
    rows = [row(name="", code=make_credit_code(_rng)) for _ in range(60)]
    page, job = upload(client, csv_bytes(rows))
    assert job.refused_count == 60 and "第 1 / 2 页" in text_of(page)
    second = text_of(client.get(f"/enterprises/import/{job.id}?page=2"))
    assert "第 2 / 2 页" in second and "61 企业名称" in second


def test_a_running_job_page_polls_with_htmx_and_refreshes_without_javascript(client, admin, db):
    job = ImportJob(user_id=admin.id, filename="名录.csv", status="running", total_rows=200000, processed_rows=50000)
    db.session.add(job)
    db.session.commit()
    body = client.get(f"/enterprises/import/{job.id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in body
    assert 'hx-trigger="every 1s"' in body and "已处理 50000 / 200000 行" in body
    fragment = client.get(f"/enterprises/import/{job.id}?poll=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="import-job"')
    assert 'hx-trigger="every 1s"' in fragment
    job.status = "done"
    db.session.commit()
    done = client.get(f"/enterprises/import/{job.id}?poll=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in done and "已完成" in done
    assert "http-equiv" not in client.get(f"/enterprises/import/{job.id}").get_data(as_text=True)


def test_a_job_whose_process_died_is_shown_as_interrupted(client, admin, db):
    job = ImportJob(user_id=admin.id, filename="名录.csv", status="running")
    db.session.add(job)
    db.session.commit()
    stale = job.updated_at - timedelta(minutes=11)
    db.session.execute(ImportJob.__table__.update().values(updated_at=stale))
    db.session.commit()
    page = text_of(client.get(f"/enterprises/import/{job.id}"))
    assert "已中断" in page and "请重新导入同一文件" in page
    db.session.refresh(job)
    assert job.status == "failed"


def test_a_crash_midway_leaves_the_job_failed_and_the_finished_batches_saved(client, admin, db, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    calls = []

    def upsert_then_crash(rows, **kw):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_upsert(rows, **kw)

    real_upsert = imports.upsert_rows
    monkeypatch.setattr(imports, "upsert_rows", upsert_then_crash)
    rows = [row(f"成都第{i}科技有限公司", CODES[i]) for i in range(5)]
    page, job = upload(client, csv_bytes(rows))
    assert job.status == "failed" and job.processed_rows == 2
    assert "导入因系统错误中断" in text_of(page)
    assert enterprise_count(db) == 2
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "enterprises_imported")).all()
    assert [a.result for a in audit] == ["failed"]


def test_the_import_runs_as_a_queued_job_with_progress_and_the_upload_is_removed(client, login_as, db, app,
                                                                                  monkeypatch):
    from gaoxin.models import Job

    monkeypatch.setattr(imports, "BATCH_SIZE", 3)
    login_as(Role.sysadmin)
    rows = [row(f"成都第{i}科技有限公司", CODES[i]) for i in range(10)]
    response = client.post("/enterprises/import", data={"file": (io.BytesIO(csv_bytes(rows)), "名录.csv")},
                           content_type="multipart/form-data")
    assert "新增 10" in text_of(client.get(response.headers["Location"]))
    job = db.session.scalar(select(Job))
    assert (job.kind, job.state, job.done, job.attempts) == ("registry_import", "done", 10, 1)
    assert "新增10" in job.summary
    assert not list((imports.upload_path(db.session.scalar(select(ImportJob)), "x.csv").parent).glob("job-*"))
    assert enterprise_count(db) == 10


def test_the_import_form_explains_the_columns_and_labels_the_upload(client, admin):
    body = client.get("/enterprises/import").get_data(as_text=True)
    assert '<label for="file">' in body and 'enctype="multipart/form-data"' in body
    assert "统一社会信用代码" in body and "必需" in body


def test_uploading_nothing_asks_for_a_file(client, admin):
    response = client.post("/enterprises/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要导入的文件。" in text_of(response)


@pytest.mark.parametrize("role", [Role.clerk, Role.dispatcher, Role.secadmin])
def test_only_the_system_admin_may_import(client, login_as, db, role):
    login_as(role)
    assert client.get("/enterprises/import").status_code == 403
    response = client.post("/enterprises/import", data={"file": (io.BytesIO(csv_bytes([row()])), "名录.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 403
    assert enterprise_count(db) == 0


def test_the_cli_imports_a_file_and_reports_refused_rows(app, db, tmp_path):
    path = tmp_path / "名录.csv"
    path.write_bytes(csv_bytes([row(), row(name="")], encoding="gbk"))
    result = app.test_cli_runner().invoke(args=["gaoxin", "import-enterprises", str(path)])
    assert result.exit_code == 0, result.output
    assert "新增 1" in result.output and "拒绝 1" in result.output and "第3行 [企业名称] 企业名称为空。" in result.output
    assert enterprise_count(db) == 1


def test_the_cli_exits_non_zero_for_a_refused_file(app, db, tmp_path):
    path = tmp_path / "photo.xlsx"
    path.write_bytes(PNG)
    result = app.test_cli_runner().invoke(args=["gaoxin", "import-enterprises", str(path)])
    assert result.exit_code != 0
    assert "文件不是有效的CSV或XLSX表格" in result.output
    assert enterprise_count(db) == 0


def test_the_job_keeps_the_file_name_without_the_clients_path(client, admin):
    page, job = upload(client, csv_bytes([row()]), "Desktop/导出/名录.csv")
    assert job.filename == "名录.csv" and "文件“名录.csv”" in text_of(page)


# ----------------------------------------------------------------------------- the full export (issue 13)

FULL_HEADER = ["序号", "企业名称", "统一社会信用代码", "登记状态", "法定代表人", "注册资本（万元）", "成立日期", "住所", "经营范围"]
SCOPE = "一般项目：软件开发；信息系统集成服务（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）。"


def full_row(number=1, name="成都蓉光智能科技有限公司", code=CODES[0], status="存续（在营、开业、在册）",
             founded="2015-03-12", scope=SCOPE):
    return [number, name, code, status, "周杰", "100.000000", founded, "成都高新区天府三街199号", scope]


def test_status_founding_date_and_business_scope_are_kept_and_shown(client, admin, db):
    page, job = upload(client, csv_bytes([full_row(), full_row(2, "成都已注销科技有限公司", CODES[1], "注销", "2009年7月1日")],
                                         header=FULL_HEADER))
    assert job.status == "done" and job.created_count == 2
    kept = by_code(db, CODES[0])
    assert (kept.status, kept.founded_on.isoformat(), kept.business_scope) == ("存续（在营、开业、在册）", "2015-03-12", SCOPE)
    gone = by_code(db, CODES[1])
    assert gone.status == "注销" and gone.founded_on.isoformat() == "2009-07-01" and gone.is_terminated
    shown = text_of(client.get(f"/enterprises/{kept.id}"))
    assert "登记状态 存续（在营、开业、在册）" in shown and "成立日期 2015-03-12" in shown and "软件开发；信息系统集成服务" in shown
    results = client.get("/enterprises?q=已注销").get_data(as_text=True)
    assert '<span class="status status-bad">注销</span>' in results and "2009-07-01" in results


def test_a_later_import_that_changes_the_status_updates_it_and_counts_it_as_updated(client, admin, db):
    upload(client, csv_bytes([full_row(), full_row(2, "成都第二科技有限公司", CODES[1])], header=FULL_HEADER))
    page, job = upload(client, csv_bytes([full_row(status="吊销，未注销"), full_row(2, "成都第二科技有限公司", CODES[1])],
                                         header=FULL_HEADER))
    assert (job.created_count, job.updated_count) == (0, 1)
    assert "更新 1" in text_of(page)
    assert by_code(db, CODES[0]).status == "吊销，未注销" and by_code(db, CODES[0]).is_terminated


def test_columns_the_importer_does_not_use_are_named_on_the_page_and_in_the_report(client, admin, db):
    page, job = upload(client, csv_bytes([full_row()], header=FULL_HEADER))
    assert "未使用的列（内容未导入）：序号、注册资本（万元）。" in text_of(page)
    report = client.get(f"/enterprises/import/{job.id}/report.csv").get_data().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(report)))[1:] == [
        ["1", "序号", imports.UNUSED_COLUMN], ["1", "注册资本（万元）", imports.UNUSED_COLUMN]]


def test_a_bad_founding_date_refuses_the_row_with_its_reason(client, admin, db):
    page, job = upload(client, csv_bytes([full_row(founded="2015-13-40")], header=FULL_HEADER))
    assert job.refused_count == 1 and enterprise_count(db) == 0
    assert "成立日期“2015-13-40”不是有效日期" in text_of(page)


def test_a_zero_byte_file_is_refused_and_changes_nothing(client, admin, db, make_enterprise):
    make_enterprise()
    page, job = upload(client, b"")
    assert job.status == "refused" and "文件是空的（0字节）。" in text_of(page)
    assert enterprise_count(db) == 1


def test_a_header_of_unknown_columns_is_refused_naming_them(client, admin, db):
    page, job = upload(client, csv_bytes([["a", "b"]], header=["公司", "代码号"]))
    assert job.status == "refused"
    assert "文件缺少必需的列：企业名称、统一社会信用代码。第1行的表头“公司、代码号”无法识别。" in text_of(page)
    assert enterprise_count(db) == 0


def test_the_upload_is_streamed_to_a_file_and_the_import_gets_its_path(client, admin, db, monkeypatch):
    seen = {}

    def launch(job, path, **kw):
        seen.update(path=path, size=path.stat().st_size, remove=kw.get("remove"))

    monkeypatch.setattr(imports, "launch", launch)
    data = csv_bytes([row()])
    response = client.post("/enterprises/import", data={"file": (io.BytesIO(data), "名录.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    assert seen["size"] == len(data) and seen["remove"] is True and seen["path"].suffix == ".csv"


def test_the_import_page_takes_a_file_over_the_general_limit_and_states_its_own(client, admin, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    monkeypatch.setitem(app.config, "GAOXIN_IMPORT_MAX_MB", 1)
    assert "文件不超过1 MB" in text_of(client.get("/enterprises/import"))
    rows = [row(f"成都第{i}科技有限公司", CODES[i]) for i in range(10)]
    data = csv_bytes(rows + [row(f"成都填充{i}科技有限公司", make_credit_code(random.Random(i))) for i in range(40)])
    assert 2000 < len(data) < 1024 * 1024
    page, job = upload(client, data)
    assert job.status == "done" and job.created_count == 50


def test_a_file_over_the_import_limit_gets_a_413_naming_that_limit(client, admin, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "GAOXIN_IMPORT_MAX_MB", 1)
    response = client.post("/enterprises/import", data={"file": (io.BytesIO(b"x" * (1024 * 1024 + 1)), "big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "企业名录导入文件不超过1 MB" in text_of(response) and "20MB" not in text_of(response)
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0


def test_elsewhere_a_413_names_the_general_limit(client, admin, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    response = client.post("/enterprises/new", data={"name": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert "每次提交的文件合计不超过1 MB" in text_of(response)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_the_cli_writes_the_whole_report_with_every_refused_row(app, db, tmp_path, suffix):
    path = tmp_path / "名录.csv"
    path.write_bytes(csv_bytes([full_row(i, f"成都第{i}科技有限公司", "123") for i in range(1, 31)], header=FULL_HEADER))
    out = tmp_path / f"报告.{suffix}"
    result = app.test_cli_runner().invoke(args=["gaoxin", "import-enterprises", str(path), "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert "拒绝 30" in result.output and "另有" not in result.output and f"完整报告（32 条）已写入 {out}" in result.output
    if suffix == "csv":
        rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    else:
        rows = [[str(c) for c in r] for r in openpyxl.load_workbook(out).active.iter_rows(values_only=True)]
    assert rows[0] == ["行号", "列", "原因"] and len(rows) == 33
    assert rows[1][1:] == ["序号", imports.UNUSED_COLUMN] and rows[-1][:2] == ["31", "统一社会信用代码"]


def test_the_cli_refuses_a_report_file_that_is_neither_csv_nor_xlsx(app, db, tmp_path):
    path = tmp_path / "名录.csv"
    path.write_bytes(csv_bytes([row()]))
    result = app.test_cli_runner().invoke(args=["gaoxin", "import-enterprises", str(path), "--report", str(tmp_path / "r.txt")])
    assert result.exit_code != 0 and "报告文件须以 .csv 或 .xlsx 结尾" in result.output
    assert enterprise_count(db) == 0


def test_the_fast_credit_code_check_agrees_with_the_full_one():
    from gaoxin.registry_text import CreditCodeError, normalize_credit_code

    rng = random.Random(13)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXYIOZSV"
    codes = [make_credit_code(rng) for _ in range(300)]
    codes += [c[:i] + rng.choice(alphabet) + c[i + 1:] for c in codes[:300] for i in (0, 1, 2, 7, 8, 17)]

    def outcome(check, code):
        try:
            return check(code)
        except CreditCodeError as exc:
            return str(exc)

    assert [outcome(imports.credit_code, c) for c in codes] == [outcome(normalize_credit_code, c) for c in codes]


def test_an_intake_for_a_deregistered_enterprise_warns_the_clerk_without_blocking(db, make_enterprise, make_user):
    from gaoxin.services import appeals as appeal_service

    closed = make_enterprise(status="吊销，未注销")
    open_ = make_enterprise(status="存续")
    clerk = make_user(Role.clerk)
    warned = appeal_service.intake(clerk, enterprise_id=closed.id, content="x", check_only=True)
    assert warned.warnings == ["注意：该企业登记状态为“吊销，未注销”，请核实企业是否仍在经营。"]
    assert appeal_service.intake(clerk, enterprise_id=open_.id, content="x", check_only=True).warnings == []


def test_an_xlsx_with_founding_dates_typed_as_dates_keeps_them(client, admin, db):
    from datetime import datetime

    page, job = upload(client, xlsx_bytes([full_row(founded=datetime(2018, 6, 30))], header=FULL_HEADER), "名录.xlsx")
    assert job.status == "done" and by_code(db, CODES[0]).founded_on.isoformat() == "2018-06-30"
