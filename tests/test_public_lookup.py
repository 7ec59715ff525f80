"""The public progress lookup, as an anonymous visitor: found, not found alike, nothing internal, rate-limited."""
import json
import os
import re
import subprocess
import sys
import textwrap
import uuid

import pytest

from gaoxin.models import Contact, Role
from gaoxin.services import appeals as service
from tests.conftest import text_of

NOT_FOUND = "未查询到该诉求，请核对回执号和统一社会信用代码后6位。"


@pytest.fixture
def tracked(db, make_user, make_enterprise, make_category, make_appeal):
    """An appeal signed by a uniquely named handler, with an internal note, a contact mobile and a reply."""
    handler = make_user(Role.handler, name="经办人甲乙丙")
    category = make_category(name="人才", lead_unit=handler.unit, handling_days=5)
    enterprise = make_enterprise(name="成都追踪测试科技有限公司")
    contact = Contact(enterprise_id=enterprise.id, name="联系人丁", mobile="13812345678")
    db.session.add(contact)
    db.session.commit()
    appeal, _ = service.record(
        make_user(Role.clerk), enterprise=enterprise, category=category, channel="building_station",
        content="申请人才公寓。", contact=contact,
    )
    service.sign(appeal, handler)
    service.add_note(appeal, handler, text="INTERNAL-MARKER-7f3a 仅内部可见")
    db.session.commit()
    return appeal


def _lookup(client, receipt, tail):
    return client.post("/track", data={"receipt_no": receipt, "code_tail": tail})


def test_anonymous_visitor_sees_the_empty_form_without_staff_navigation(client):
    response = client.get("/track")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.count("<h1") == 1
    assert 'for="receipt_no"' in body and 'for="code_tail"' in body
    assert "主导航" not in body and "<script>" not in body and "style=" not in body


@pytest.mark.parametrize("transform", [str.upper, str.lower])
def test_right_receipt_and_last_six_of_the_code_show_the_case(client, tracked, transform):
    response = _lookup(client, tracked.receipt_no, transform(tracked.enterprise.credit_code[-6:]))
    assert response.status_code == 200
    page = text_of(response)
    assert tracked.receipt_no in page
    assert "成都追踪测试科技有限公司" in page
    assert "人才" in page and "办理中" in page
    assert f"{tracked.due_on:%Y-%m-%d}" in page
    assert "承办部门已签收，正在办理。" in page
    assert NOT_FOUND not in page


def test_the_page_shows_no_internal_note_no_staff_name_and_no_full_mobile(client, tracked):
    body = _lookup(client, tracked.receipt_no, tracked.enterprise.credit_code[-6:]).get_data(as_text=True)
    assert tracked.receipt_no in body
    assert "INTERNAL-MARKER-7f3a" not in body
    assert "经办人甲乙丙" not in body
    assert "13812345678" not in body
    assert "138****5678" in body


def test_a_replied_case_shows_the_outcome_and_the_reply_text(client, db, tracked):
    service.reply(tracked, tracked.assignee, outcome="resolved", text="已为企业办理人才公寓入住。")
    db.session.commit()
    page = text_of(_lookup(client, tracked.receipt_no, tracked.enterprise.credit_code[-6:]))
    assert "已答复" in page and "已解决" in page and "已为企业办理人才公寓入住。" in page


def test_a_queued_case_has_no_expected_date_yet(client, make_category, make_appeal):
    appeal = make_appeal(category=make_category(lead_unit=None))
    page = text_of(_lookup(client, appeal.receipt_no, appeal.enterprise.credit_code[-6:]))
    assert "待派单" in page and "待分派" in page


def _without_csrf_token(response):
    # The signed token carries a timestamp, so it changes from one second to the next whatever the answer.
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", response.get_data(as_text=True))


def test_wrong_receipt_and_wrong_code_give_the_same_answer(client, tracked):
    code = tracked.enterprise.credit_code
    wrong_tail = "000000" if code[-6:] != "000000" else "111111"
    wrong_receipt = _lookup(client, "SQ20990101" + "9" * 7, code[-6:])
    wrong_code = _lookup(client, tracked.receipt_no, wrong_tail)
    assert wrong_receipt.status_code == wrong_code.status_code == 200
    assert _without_csrf_token(wrong_receipt) == _without_csrf_token(wrong_code)
    assert NOT_FOUND in text_of(wrong_code)
    assert tracked.receipt_no not in wrong_code.get_data(as_text=True)


def test_a_malformed_code_is_explained_beside_the_field(client, tracked):
    page = text_of(_lookup(client, tracked.receipt_no, "12"))
    assert "请输入统一社会信用代码的最后6位" in page


def test_the_eleventh_lookup_in_a_minute_is_refused_in_chinese(client, tracked):
    for _ in range(10):
        assert _lookup(client, "SQ202601010000001", "123456").status_code == 200
    response = _lookup(client, tracked.receipt_no, tracked.enterprise.credit_code[-6:])
    assert response.status_code == 429
    assert "查询过于频繁" in text_of(response)
    assert tracked.enterprise.name not in text_of(response)
    assert client.get("/track").status_code == 200


def test_the_lookup_form_requires_a_csrf_token(app, tracked):
    """Every form is CSRF-protected; the session app runs without it, so check with a second, bare app."""
    script = textwrap.dedent(f"""
        from gaoxin import create_app
        app = create_app({{"TESTING": True, "SECRET_KEY": "x", "RATELIMIT_STORAGE_URI": "memory://",
                           "SQLALCHEMY_DATABASE_URI": {app.config["SQLALCHEMY_DATABASE_URI"]!r}}})
        client = app.test_client()
        print(client.post("/track", data={{"receipt_no": "SQ202601010000001", "code_tail": "123456"}}).status_code)
    """)
    assert _run(script) == "400"


# --------------------------------------------------------------------------- several workers

REDIS_URL = "redis://127.0.0.1:6379/15"

WORKER = textwrap.dedent("""
    import json, sys
    from gaoxin import create_app
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": sys.argv[1], "RATELIMIT_STORAGE_URI": sys.argv[2],
                      "RATELIMIT_KEY_PREFIX": sys.argv[3]})
    client = app.test_client()
    codes = [client.post("/track", data={"receipt_no": "SQ202601010000001", "code_tail": "123456"}).status_code
             for _ in range(int(sys.argv[4]))]
    print(json.dumps(codes))
""")


def _run(script, *args):
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _redis_reachable():
    try:
        import redis

        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


def test_two_workers_share_the_limit_through_redis(app):
    """Two processes, each with its own app and limiter, as gunicorn workers are: together they get 10 lookups."""
    if not _redis_reachable():
        pytest.skip("Redis is not reachable at 127.0.0.1:6379 (CI provides it).")
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    prefix = f"test-{uuid.uuid4().hex}"  # a fresh counter, whatever another run left in the database
    first = json.loads(_run(WORKER, database, REDIS_URL, prefix, "6"))
    second = json.loads(_run(WORKER, database, REDIS_URL, prefix, "5"))
    assert first == [200] * 6
    assert second == [200] * 4 + [429]


def test_each_worker_counts_alone_on_memory_storage(app):
    """The default memory:// store is per process: that is why production sets GAOXIN_RATELIMIT_STORAGE."""
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    first = json.loads(_run(WORKER, database, "memory://", "m", "6"))
    second = json.loads(_run(WORKER, database, "memory://", "m", "6"))
    assert first == second == [200] * 6


def test_a_policy_application_is_found_by_its_sb_receipt_and_shows_the_result(client, db, make_application, make_user,
                                                                              make_unit):
    from decimal import Decimal

    from gaoxin.models import UnitKind
    from gaoxin.services import applications as applications_service
    from gaoxin.services.calendar import today

    window = make_user(Role.window, name="窗口内部人员甲")
    application = make_application(intake=window)
    items = {i.item_id: ("ok", "") for i in application.items}
    applications_service.check(application, window, decision="accept", marks=items, expected_version=application.version)
    handler = make_user(Role.handler, unit=application.department)
    applications_service.approve(application, handler, amount=Decimal("80000.00"))
    applications_service.issue_result(application, window)
    payer = make_user(Role.handler, unit=make_unit(UnitKind.department, is_paying_unit=True))
    applications_service.disburse(application, payer, amount=Decimal("80000.00"), on=today())
    db.session.commit()
    tail = application.enterprise.credit_code[-6:]
    page = text_of(_lookup(client, application.receipt_no, tail))
    assert application.policy.title in page and "已拨付" in page and "¥80,000.00" in page
    assert "窗口内部人员甲" not in page
    wrong = _lookup(client, application.receipt_no, "000000" if tail != "000000" else "111111")
    assert "未查询到" in text_of(wrong)
