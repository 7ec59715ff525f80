"""Background jobs in a real browser: a dispatcher's export past the sync limit goes to its job page and is
downloaded from there; the department's overdue notices show in the inbox header and on their page; the system
admin's jobs page. Every page passes axe and does not scroll sideways at 375 px."""
import pytest
from playwright.sync_api import expect

from gaoxin.extensions import db
from gaoxin.services import jobs
from gaoxin.workflow import JobKind

from .helpers import assert_accessible, login, logout, submit, visit
from .test_small_screens import sideways_overflow


@pytest.fixture
def small_export_limit(live_app, monkeypatch):
    monkeypatch.setitem(live_app.config, "GAOXIN_EXPORT_SYNC_LIMIT", 2)


def test_a_large_export_becomes_a_job_its_owner_downloads(page, small_export_limit):
    login(page, "dispatcher")
    visit(page, "/appeals/")
    with page.expect_navigation():
        page.goto("/exports/appeals.csv")
    assert_accessible(page)
    expect(page.locator(".flashes")).to_contain_text("已转为后台导出")
    expect(page.locator("#job-status")).to_contain_text("已完成")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载").click()
    assert download.value.suggested_filename.endswith(".csv")
    assert "回执号" in open(download.value.path(), encoding="utf-8-sig").readline()


def test_notices_and_the_jobs_page_on_a_phone(open_page, live_app):
    with live_app.app_context():
        jobs.periodic(JobKind.overdue_check)
        db.session.commit()
    page = open_page(viewport={"width": 375, "height": 800})
    login(page, "handler")
    visit(page, "/inbox")
    link = page.locator("#notices-link a")
    submit(page, link)
    expect(page.get_by_role("heading", name="部门提醒")).to_be_visible()
    assert sideways_overflow(page) <= 0
    logout(page)
    login(page, "sysadmin")
    visit(page, "/jobs")
    expect(page.locator("table")).to_contain_text("超期检查")
    assert sideways_overflow(page) <= 0
