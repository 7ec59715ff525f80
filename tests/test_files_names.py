"""Attachment file names: cleaned at upload, and every download gets a safe name ending in the detected type."""
import io
from urllib.parse import quote

import pytest
from flask import send_file
from sqlalchemy import select

from gaoxin.models import Appeal, Attachment, Role, UnitKind
from gaoxin.services import files
from tests.conftest import log_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63600000020000"
    "01e221bc330000000049454e44ae426082"
)


@pytest.mark.parametrize("raw, clean", [
    ("申请表.pdf", "申请表.pdf"),
    ("bad\nname.pdf", "badname.pdf"),
    ("bad\r\nname\x00.pdf", "badname.pdf"),
    ("tab\there.pdf", "tabhere.pdf"),
    ("C:\\Users\\王明\\Desktop\\营业执照.pdf", "营业执照.pdf"),
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("\u202efdp.exe", "fdp.exe"),
    ("成都\u2066天气\u2069科技.pdf", "成都天气科技.pdf"),
    ("  ..申请表.pdf.. ", "申请表.pdf"),
    ("a\u0085b\u009fc.pdf", "abc.pdf"),
    ("a\u2028b.pdf", "ab.pdf"),
    ('a<b>:"c|?*.pdf', "a_b___c___.pdf"),
    ("", "未命名文件"),
    ("\n\x00 ", "未命名文件"),
    ("../..", "未命名文件"),
])
def test_clean_filename(raw, clean):
    assert files.clean_filename(raw) == clean


def test_an_over_long_name_is_shortened_and_keeps_its_extension():
    name = files.clean_filename("很长的文件名" * 100 + ".pdf")
    assert name.endswith(".pdf") and name.startswith("很长的文件名")
    assert len(name.encode("utf-8")) <= files.NAME_MAX_BYTES


@pytest.mark.parametrize("filename, content_type, expected", [
    ("申请表.pdf", "application/pdf", "申请表.pdf"),
    ("申请表.PDF", "application/pdf", "申请表.PDF"),
    ("report.exe", "application/pdf", "report.exe.pdf"),
    ("报告", "application/pdf", "报告.pdf"),
    ("photo.png", "image/jpeg", "photo.jpg"),
    ("photo.jpeg", "image/jpeg", "photo.jpeg"),
    ("scan.pdf", "image/png", "scan.png"),
    ("表格.xlsx.docx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "表格.xlsx.xlsx"),
    ("bad\nname.pdf", "application/pdf", "badname.pdf"),
    ("\u202efdp.exe", "application/pdf", "fdp.exe.pdf"),
])
def test_download_name_ends_in_the_extension_of_the_detected_type(filename, content_type, expected):
    assert files.download_name(Attachment(filename=filename, content_type=content_type)) == expected


def test_an_over_long_name_keeps_the_detected_extension_at_download():
    name = files.download_name(Attachment(filename="长" * 300 + ".exe", content_type="application/pdf"))
    assert name.endswith(".pdf") and len(name.encode("utf-8")) <= files.NAME_MAX_BYTES


def test_send_file_with_a_chinese_download_name_sends_rfc_5987_filename_star(app):
    name = files.download_name(Attachment(filename="营业执照\n副本.pdf", content_type="application/pdf"))
    with app.test_request_context():
        response = send_file(io.BytesIO(PDF), mimetype="application/pdf", as_attachment=True, download_name=name)
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('营业执照副本.pdf')}" in disposition
    assert "\n" not in disposition and "\r" not in disposition


@pytest.fixture
def clerk_and_category(make_unit, make_user, make_category):
    dept = make_unit(UnitKind.department, name="科技人才局")
    station = make_unit(UnitKind.building_station, name="天府软件园楼宇企业服务站")
    return make_user(Role.clerk, unit=station), make_category(name="人才", lead_unit=dept)


def multipart(fields, content, filename, field="files"):
    """A multipart body whose file name travels as RFC 5987 filename* (as curl and scripts may send it): the
    only way a line break or a NUL reaches the app, since browsers escape them and Werkzeug's test client drops
    a part whose plain filename holds one."""
    boundary = "----gaoxin-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                 f"filename*=UTF-8''{quote(filename, safe='')}\r\nContent-Type: application/octet-stream\r\n\r\n"
                 .encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _record_with_file(client, db, make_enterprise, clerk_and_category, content, filename):
    clerk, category = clerk_and_category
    log_in(client, clerk.username)
    body, content_type = multipart({
        "submission_token": "t-files", "enterprise_id": make_enterprise().id, "category_id": category.id,
        "channel": "building_station", "content": "附件文件名测试", "contact_name": "张三",
        "contact_mobile": "13812345678"}, content, filename)
    response = client.post("/appeals/new", data=body, content_type=content_type)
    assert response.status_code == 303, response.get_data(as_text=True)
    return db.session.scalar(select(Appeal)), db.session.scalar(select(Attachment))


def test_a_name_with_a_line_break_is_cleaned_at_upload_and_downloads(client, db, make_enterprise, clerk_and_category):
    appeal, attachment = _record_with_file(client, db, make_enterprise, clerk_and_category, PDF, "营业执照\n副本.pdf")
    assert attachment.filename == "营业执照副本.pdf"
    download = client.get(f"/appeals/{appeal.id}/files/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert f"filename*=UTF-8''{quote('营业执照副本.pdf')}" in download.headers["Content-Disposition"]


def test_a_pdf_uploaded_under_another_name_is_stored_as_pdf(client, db, make_enterprise, clerk_and_category):
    appeal, attachment = _record_with_file(client, db, make_enterprise, clerk_and_category, PDF,
                                           "../../\u202egpj.exe")
    assert attachment.filename == "gpj.exe.pdf" and attachment.content_type == "application/pdf"
    download = client.get(f"/appeals/{appeal.id}/files/{attachment.id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == 'attachment; filename=gpj.exe.pdf'


def test_a_png_named_jpg_is_stored_as_png(client, db, make_enterprise, clerk_and_category):
    _, attachment = _record_with_file(client, db, make_enterprise, clerk_and_category, PNG, "照片.jpg")
    assert attachment.filename == "照片.png" and attachment.content_type == "image/png"


def test_a_nul_in_the_file_name_is_cleaned_and_nothing_fails(client, db, make_enterprise, clerk_and_category):
    _, attachment = _record_with_file(client, db, make_enterprise, clerk_and_category, PDF, "a\x00b.pdf")
    assert attachment.filename == "ab.pdf"


def test_an_existing_row_with_a_line_break_in_its_name_still_downloads(client, db, make_enterprise, clerk_and_category):
    appeal, attachment = _record_with_file(client, db, make_enterprise, clerk_and_category, PDF, "报告.pdf")
    # A row stored before names were cleaned at upload.
    attachment.filename = "报告\r\n第二版.exe"
    db.session.commit()
    download = client.get(f"/appeals/{appeal.id}/files/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert f"filename*=UTF-8''{quote('报告第二版.exe.pdf')}" in download.headers["Content-Disposition"]


def test_a_registry_export_whose_name_holds_a_nul_and_a_line_break_imports(client, login_as, app, monkeypatch, db):
    from gaoxin.models import ImportJob

    login_as(Role.sysadmin)
    csv = "统一社会信用代码,企业名称\n91510100MA61R7CM5N,成都蓉光智能科技有限公司\n".encode()
    body, content_type = multipart({}, csv, "名录\x00\n2026.csv", field="file")
    response = client.post("/enterprises/import", data=body, content_type=content_type)
    assert response.status_code == 303
    assert db.session.scalar(select(ImportJob.filename)) == "名录2026.csv"
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize("ids", ["2147483648", "99999999999999999999", "²", "١٢", "1,²,abc,-1,", "1" * 5000])
def test_pending_attachment_ids_that_are_no_ids_find_nothing(client, db, make_enterprise, clerk_and_category, ids):
    """Found by the fuzzer: ids beyond the integer column's range, or digits int() cannot read, gave a 500."""
    clerk, category = clerk_and_category
    log_in(client, clerk.username)
    response = client.post("/appeals/new", data={
        "submission_token": "t-ids", "enterprise_id": make_enterprise().id, "category_id": category.id,
        "channel": "building_station", "content": "", "attachment_ids": ids})
    assert response.status_code == 422 and "请填写诉求内容" in response.get_data(as_text=True)
    assert files.pending_attachments(clerk, ids.split(","), "appeal") == []
