"""并案 (issue 12, point 9): a duplicate closes into its main appeal with a link, its enterprise reads 已并案至 SQ…
in the lookup, the main case's reply reaches every merged enterprise, and figures can count the main case once."""
import pytest
from sqlalchemy import func, select

from gaoxin.models import Appeal, Event, Role, UnitKind
from gaoxin.services import appeals as service
from tests.conftest import log_in, text_of


@pytest.fixture
def people(make_unit, make_user, make_category):
    dept = make_unit(UnitKind.department, name="科技人才局")
    station = make_unit(UnitKind.building_station, name="天府软件园楼宇企业服务站")
    return {
        "dept": dept,
        "clerk": make_user(Role.clerk, unit=station),
        "handler": make_user(Role.handler, unit=dept, name="刘洋"),
        "dispatcher": make_user(Role.dispatcher),
        "category": make_category(name="人才", lead_unit=dept),
    }


@pytest.fixture
def pair(people, make_appeal, make_enterprise):
    """(main, duplicate): the same matter raised by two enterprises, both sent to the same department."""
    main = make_appeal(category=people["category"], recorder=people["clerk"],
                       enterprise=make_enterprise(name="成都甲科技有限公司"), content="人才公寓申请条件？")
    duplicate = make_appeal(category=people["category"], recorder=people["clerk"],
                            enterprise=make_enterprise(name="成都乙科技有限公司"), content="同样想问人才公寓。")
    return main, duplicate


def lookup(client, receipt, tail):
    client.post("/logout")
    return text_of(client.post("/track", data={"receipt_no": receipt, "code_tail": tail}))


def merge(client, user, duplicate, receipt, **extra):
    client.post("/logout")
    log_in(client, user.username)
    return client.post(f"/appeals/{duplicate.id}/merge",
                       data={"main_receipt": receipt, "reason": "同一事项", "version": duplicate.version, **extra})


def test_the_lead_department_merges_a_duplicate_which_closes_with_a_link(client, db, people, pair):
    main, duplicate = pair
    response = merge(client, people["handler"], duplicate, main.receipt_no.lower())
    assert response.status_code == 303
    db.session.refresh(duplicate)
    assert duplicate.merged_into_id == main.id and duplicate.is_merged and duplicate.state == "withdrawn"
    assert duplicate.closed_at is not None and duplicate.state_title == "已并案"
    page = text_of(client.get(f"/appeals/{duplicate.id}"))
    assert f"本诉求已并案至 {main.receipt_no}" in page
    main_page = text_of(client.get(f"/appeals/{main.id}"))
    assert duplicate.receipt_no in main_page and "成都乙科技有限公司" in main_page


def test_the_merged_enterprise_reads_merged_into_in_the_lookup_and_then_the_main_reply(client, db, people, pair):
    main, duplicate = pair
    assert merge(client, people["dispatcher"], duplicate, main.receipt_no).status_code == 303
    tail = duplicate.enterprise.credit_code[-6:]
    page = lookup(client, duplicate.receipt_no, tail)
    assert f"已并案至 {main.receipt_no}" in page and "成都甲科技有限公司" not in page

    service.sign(main, people["handler"])
    service.reply(main, people["handler"], outcome="resolved", text="已为两家企业安排人才公寓看房。")
    db.session.commit()
    assert "已为两家企业安排人才公寓看房。" in lookup(client, duplicate.receipt_no, tail)
    public = db.session.scalars(select(Event.public_text).where(Event.appeal_id == duplicate.id,
                                                                Event.public.is_(True))).all()
    assert any(main.receipt_no in text and "已为两家企业安排人才公寓看房。" in text for text in public)


def test_figures_can_count_the_main_case_once(db, people, pair):
    main, duplicate = pair
    service.merge(duplicate, people["dispatcher"], main_receipt=main.receipt_no)
    db.session.commit()
    counted = db.session.scalar(select(func.count(Appeal.id)).where(Appeal.merged_into_id.is_(None)))
    assert counted == 1


@pytest.mark.parametrize("receipt, message", [
    ("SQ000", "没有找到该回执号的诉求"),
    ("self", "不能并入本诉求自身"),
])
def test_a_bad_main_receipt_is_refused_beside_the_field_and_nothing_changes(client, db, people, pair, receipt, message):
    main, duplicate = pair
    receipt = duplicate.receipt_no if receipt == "self" else receipt
    response = merge(client, people["handler"], duplicate, receipt)
    assert response.status_code == 422 and message in text_of(response)
    assert 'value="%s"' % receipt in response.get_data(as_text=True)
    db.session.refresh(duplicate)
    assert duplicate.merged_into_id is None and duplicate.state == "dispatched"


def test_a_main_case_already_merged_is_refused_and_earlier_duplicates_follow_a_new_main(client, db, people, pair,
                                                                                       make_appeal):
    main, duplicate = pair
    third = make_appeal(category=people["category"], recorder=people["clerk"])
    service.merge(third, people["dispatcher"], main_receipt=duplicate.receipt_no)
    db.session.commit()
    refused = merge(client, people["dispatcher"], main, third.receipt_no)
    assert refused.status_code == 422 and f"已并案至{duplicate.receipt_no}" in text_of(refused)
    assert merge(client, people["dispatcher"], duplicate, main.receipt_no).status_code == 303
    db.session.refresh(third)
    assert third.merged_into_id == main.id


def test_a_department_cannot_merge_another_departments_appeal(client, db, people, pair, make_user, make_unit):
    main, duplicate = pair
    outsider = make_user(Role.handler, unit=make_unit(UnitKind.department))
    assert merge(client, outsider, duplicate, main.receipt_no).status_code == 404
    db.session.refresh(duplicate)
    assert duplicate.merged_into_id is None
