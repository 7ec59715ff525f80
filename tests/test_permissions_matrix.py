"""Tests by who acts (CTFd): every appeal and application action × every staff role × own unit / another unit.

Each cell puts a case in the state where the action is possible, posts a valid form as that user and expects
303 back to the case (allowed), 403 (sees the case, may not act) or 404 (does not see the case); a refusal
changes nothing. The expectations come from the tables below, written out by hand from permissions.py
(ROLE_PERMISSIONS, OBJECT_CHECKS, SUBJECT_CHECKS, visible_appeals, visible_applications) — never from can().
"""
import itertools
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from gaoxin.models import (
    Appeal, AppealCategory, AppealCoHandler, Application, ApplicationItem, Channel, Event, Extension, Role,
    SupplementNotice, Unit, UnitKind, User,
)
from gaoxin.services import appeals as appeal_service
from gaoxin.services import applications as application_service
from gaoxin.services.calendar import today
from tests.conftest import log_in

R = Role
#: A role's reach: in any unit, or only where the case is its unit's (recorded there, sent there, …).
ALL, OWN = "all", "own"

STAFF = [R.clerk, R.window, R.dispatcher, R.handler, R.dept_lead, R.leader, R.sysadmin, R.secadmin, R.auditor]
DEPARTMENT = (R.handler, R.dept_lead)
_counter = itertools.count(1)


def expected_status(sees, may, role, own):
    """404 unless the role sees the case from this unit; then 303 if it may act from this unit, else 403."""
    def reaches(scope):
        return scope == ALL or (scope == OWN and own)

    if not reaches(sees.get(role)):
        return 404
    return 303 if reaches(may.get(role)) else 403


# --------------------------------------------------------------------------- appeals

#: Who sees an appeal: the dispatcher and leaders every one; a department those it leads or co-handles;
#: a station, point or the window those it recorded; the three admins none.
APPEAL_SEES = {R.clerk: OWN, R.window: OWN, R.dispatcher: ALL, R.handler: OWN, R.dept_lead: OWN, R.leader: ALL}

#: The unit of the case a role calls its own: where it was recorded, the department it was sent to, …
APPEAL_OWN_UNIT = {
    R.clerk: "intake", R.window: "intake", R.dispatcher: "centre", R.handler: "lead", R.dept_lead: "lead",
    R.leader: "zone", R.sysadmin: "intake", R.secadmin: "intake", R.auditor: "intake",
}

#: action → (state the case is put in, who may act, state afterwards, overrides).
#: OWN in "who may" is an object check tying the case to the user's unit; ALL is the role alone.
APPEAL_ACTIONS = {
    # A queued appeal belongs to no department yet: the department it is about to go to does not see it.
    "dispatch": ("awaiting_dispatch", {R.dispatcher: ALL}, "dispatched",
                 {"sees": {R.handler: None, R.dept_lead: None}}),
    "redispatch": ("dispatched", {R.dispatcher: ALL}, "dispatched", {}),
    "sign": ("dispatched", {R.handler: OWN, R.dept_lead: OWN}, "in_progress", {}),
    "return": ("dispatched", {R.handler: OWN, R.dept_lead: OWN}, "awaiting_dispatch", {}),
    "assign": ("in_progress", {R.dept_lead: OWN}, "in_progress", {}),
    "note": ("dispatched", {R.clerk: ALL, R.window: ALL, R.dispatcher: ALL, R.handler: ALL, R.dept_lead: ALL},
             "dispatched", {}),
    "extend": ("in_progress", {R.handler: OWN, R.dept_lead: OWN}, "in_progress", {}),
    "decide_extension": ("extension_pending", {R.dispatcher: ALL}, "in_progress", {}),
    "supervise": ("in_progress", {R.dispatcher: ALL}, "in_progress", {}),
    # The co-handling department's own action: its unit is the co-handler, not the lead.
    "opinion": ("co_pending", {R.handler: OWN, R.dept_lead: OWN}, "in_progress",
                {"unit": {R.handler: "co", R.dept_lead: "co"}}),
    # Co-handlers work from dispatch on, before the lead department signs (issue 12).
    "opinion_at_dispatch": ("co_dispatched", {R.handler: OWN, R.dept_lead: OWN}, "dispatched",
                            {"unit": {R.handler: "co", R.dept_lead: "co"}}),
    "reply": ("in_progress", {R.handler: OWN, R.dept_lead: OWN}, "replied", {}),
    "follow_up": ("replied", {R.clerk: OWN, R.window: OWN, R.dispatcher: ALL}, "closed", {}),
    "withdraw": ("dispatched", {R.clerk: OWN, R.window: OWN, R.dispatcher: ALL}, "withdrawn", {}),
    # 并案 into another appeal of the same lead department (the main case must be one the actor sees).
    "merge": ("duplicate", {R.dispatcher: ALL, R.handler: OWN, R.dept_lead: OWN}, "withdrawn", {}),
}

APPEAL_PATHS = {"redispatch": "dispatch", "follow_up": "follow-up", "opinion_at_dispatch": "opinion"}
#: POST routes on an appeal that are no case action (nothing in the row changes), tested on their own:
#: inserting a canned reply (tests/test_canned_replies.py), revealing the contact's mobile (tests/test_appeals_daily.py).
APPEAL_NON_ACTIONS = {"phrase", "reveal-mobile"}


def appeal_request(action, case):
    """(path, valid form) for `action` on the case."""
    if action == "decide_extension":
        return f"/appeals/{case.id}/extensions/{case.extension_id}", {"decision": "approve", "comment": "同意"}
    form = {
        "dispatch": {"lead_unit_id": case.target_id, "handling_days": 5, "comment": "请办理"},
        "redispatch": {"lead_unit_id": case.target_id, "handling_days": 5, "comment": "改派"},
        "sign": {},
        "return": {"reason": "不属于本部门职责"},
        "assign": {"assignee_id": case.lead_staff_id},
        "note": {"text": "内部备注"},
        "extend": {"days": 3, "reason": "需要现场核查"},
        "supervise": {"comment": "请加快办理"},
        "opinion": {"text": "同意主办部门意见"},
        "reply": {"outcome": "resolved", "text": "已协调解决。"},
        "follow_up": {"satisfaction": "satisfied", "comment": "企业满意"},
        "withdraw": {"reason": "企业已自行解决"},
        "opinion_at_dispatch": {"text": "同意主办部门意见"},
        "merge": {"main_receipt": case.main_receipt, "reason": "同一事项重复反映"},
    }[action]
    if action not in ("note", "opinion", "opinion_at_dispatch"):
        form["version"] = case.version
    return f"/appeals/{case.id}/{APPEAL_PATHS.get(action, action)}", form


def _units(db, **kinds):
    """Units by key (kind, or (kind, fields)), added in one go (no commit): a case's own units."""
    units = {}
    for key, kind in kinds.items():
        kind, fields = kind if isinstance(kind, tuple) else (kind, {})
        units[key] = Unit(name=f"{key}{next(_counter)}", kind=kind, **fields)
    db.session.add_all(units.values())
    return units


def _staff(db, role, unit):
    """A colleague who works the case through the services only (never logs in: no password hashing)."""
    user = User(username=f"staff{next(_counter)}", name=f"同事{next(_counter)}", unit=unit,
                must_change_password=False, password_hash="!")
    user.set_roles([role])
    db.session.add(user)
    return user


@pytest.fixture
def appeal_case(db, make_enterprise):
    """appeal_case(state, intake_kind) → the case: an appeal recorded at an intake unit of that kind, routed to
    a lead department (with a co-handling one for co_pending) and brought to `state` through the services."""
    def build(state, intake_kind):
        units = _units(db, intake=intake_kind, lead=UnitKind.department, co=UnitKind.department,
                       target=UnitKind.department, centre=UnitKind.dispatch_centre, zone=UnitKind.zone)
        recorder = _staff(db, R.window if intake_kind == UnitKind.window else R.clerk, units["intake"])
        lead_staff = _staff(db, R.handler, units["lead"])
        category = AppealCategory(name=f"类别{next(_counter)}", handling_days=5,
                                  lead_unit=None if state == "awaiting_dispatch" else units["lead"],
                                  co_units=[units["co"]] if state in ("co_pending", "co_dispatched") else [])
        db.session.add(category)
        db.session.flush()
        appeal, _ = appeal_service.record(recorder, enterprise=make_enterprise(), category=category,
                                          channel=Channel.building_station.value, content="企业希望了解人才公寓申请条件。")
        main = None
        if state == "duplicate":
            main, _ = appeal_service.record(recorder, enterprise=make_enterprise(), category=category,
                                            channel=Channel.building_station.value, content="同一事项，先登记的一条。")
        extension = None
        if state in ("in_progress", "extension_pending", "co_pending", "replied"):
            appeal_service.sign(appeal, lead_staff)
        if state == "extension_pending":
            extension = appeal_service.request_extension(appeal, lead_staff, days=2, reason="需要现场核查")
        if state == "replied":
            appeal_service.reply(appeal, lead_staff, outcome="resolved", text="已办理。")
        db.session.flush()
        # Plain values: the objects expire at the commit and would each be loaded again.
        case = SimpleNamespace(id=appeal.id, version=appeal.version, units=units, target_id=units["target"].id,
                               lead_staff_id=lead_staff.id, extension_id=extension.id if extension else None,
                               main_receipt=main.receipt_no if main else None)
        db.session.commit()
        return case
    return build


def appeal_snapshot(db, appeal_id):
    """Everything an action may change on an appeal: its row, its timeline, its extensions, its co-handlers."""
    a = Appeal
    return {
        "row": db.session.execute(select(
            a.state, a.version, a.lead_unit_id, a.assignee_id, a.signed_at, a.supervised_at, a.return_count, a.due_on,
            a.extended_days, a.reply_outcome, a.reply_text, a.satisfaction, a.closed_at, a.merged_into_id,
        ).where(a.id == appeal_id)).one(),
        "events": db.session.scalar(select(func.count(Event.id)).where(Event.appeal_id == appeal_id)),
        "extensions": db.session.execute(select(Extension.id, Extension.status).where(Extension.appeal_id == appeal_id)
                                         .order_by(Extension.id)).all(),
        "co_handlers": db.session.execute(
            select(AppealCoHandler.unit_id, AppealCoHandler.opinion, AppealCoHandler.opinion_at)
            .where(AppealCoHandler.appeal_id == appeal_id).order_by(AppealCoHandler.unit_id)).all(),
    }


def acting_user(make_user, make_unit, case, role, own, unit_key):
    """A user with `role` in the case's own unit for that role, or in a fresh unit of the same kind."""
    unit = case.units[unit_key]
    if not own:
        unit = make_unit(unit.kind)
    return make_user(role, unit=unit)


@pytest.mark.parametrize("own", [True, False], ids=["own_unit", "other_unit"])
@pytest.mark.parametrize("role", STAFF, ids=[r.value for r in STAFF])
@pytest.mark.parametrize("action", list(APPEAL_ACTIONS))
def test_appeal_action_by_role_and_unit(client, db, appeal_case, make_user, make_unit, action, role, own):
    state, may, after_state, overrides = APPEAL_ACTIONS[action]
    sees = {**APPEAL_SEES, **overrides.get("sees", {})}
    unit_key = overrides.get("unit", {}).get(role, APPEAL_OWN_UNIT[role])
    case = appeal_case(state, UnitKind.window if role is R.window else UnitKind.building_station)
    user = acting_user(make_user, make_unit, case, role, own, unit_key)
    path, form = appeal_request(action, case)
    before = appeal_snapshot(db, case.id)

    assert log_in(client, user.username).status_code == 302
    response = client.post(path, data=form)

    want = expected_status(sees, may, role, own)
    assert response.status_code == want, response.get_data(as_text=True)[:2000]
    after = appeal_snapshot(db, case.id)
    if want == 303:
        # A return takes the case out of the department's sight: it lands on its inbox instead.
        assert response.headers["Location"] == ("/inbox" if action == "return" else f"/appeals/{case.id}")
        assert after["row"][0] == after_state and after["row"][1] > before["row"][1]
        assert after["events"] == before["events"] + 1
    else:
        assert after == before


# --------------------------------------------------------------------------- applications

#: Who sees an application: the window and leaders every one; a station or point what it took in; a
#: department its policies' (never a draft), the paying unit approved ones; the dispatcher and admins none.
APPLICATION_SEES = {R.clerk: OWN, R.window: ALL, R.handler: OWN, R.dept_lead: OWN, R.leader: ALL}

APPLICATION_OWN_UNIT = {
    R.clerk: "intake", R.window: "intake", R.dispatcher: "centre", R.handler: "department",
    R.dept_lead: "department", R.leader: "zone", R.sysadmin: "intake", R.secadmin: "intake", R.auditor: "intake",
}

#: action → (state the case is put in, who may act, state afterwards, overrides), as for appeals.
APPLICATION_ACTIONS = {
    "check": ("submitted", {R.window: ALL}, "accepted", {}),
    "materials": ("submitted", {R.window: ALL}, "submitted", {}),
    "resubmit": ("supplemented", {R.window: ALL}, "submitted", {}),
    "approve": ("accepted", {R.handler: OWN, R.dept_lead: OWN}, "approved", {}),
    "reject": ("accepted", {R.handler: OWN, R.dept_lead: OWN}, "rejected", {}),
    "back": ("accepted", {R.handler: OWN, R.dept_lead: OWN}, "awaiting_supplement", {}),
    "issue_result": ("approved", {R.window: ALL}, "result_issued", {}),
    # Only the paying unit pays out (SUBJECT_CHECKS); its own unit is the paying unit, "another" a plain department.
    "disburse": ("result_issued", {R.handler: OWN, R.dept_lead: OWN}, "disbursed",
                 {"unit": {R.handler: "paying", R.dept_lead: "paying"}}),
    # Drafts stay with the intake unit: departments do not see them.
    "edit": ("draft", {R.clerk: OWN, R.window: OWN}, "submitted", {"sees": {R.handler: None, R.dept_lead: None}}),
}

APPLICATION_PATHS = {"issue_result": "issue-result"}


def application_request(action, case):
    """(path, valid form) for `action` on the case."""
    items = case.item_ids
    form = {
        "check": {"decision": "accept", **{f"mark-{item}": "ok" for item in items}},
        "materials": {f"paper-{items[2]}": "1", "attachment_ids": ""},
        "resubmit": {},
        "approve": {"amount": "50000.00", "comment": "符合条件"},
        "reject": {"reason": "不符合申报条件"},
        "back": {"item_ids": [items[0]], "reason": "缺少盖章"},
        "issue_result": {},
        "disburse": {"amount": "50000.00", "disbursed_on": today().isoformat()},
        "edit": {"enterprise_id": case.enterprise_id, "policy_id": case.policy_id,
                 "declared_amount": "100000.00", "intent": "submit", **{f"paper-{item}": "1" for item in items[:2]}},
    }[action]
    form["version"] = case.version
    return f"/applications/{case.id}/{APPLICATION_PATHS.get(action, action)}", form


@pytest.fixture
def application_case(db, make_policy, make_enterprise):
    """application_case(state, intake_kind) → the case: an application taken in at an intake unit of that
    kind for a department's policy (two required items with paper copies, one optional item with nothing),
    brought to `state` through the services; `supplemented` is awaiting_supplement with the material in."""
    def build(state, intake_kind):
        units = _units(db, intake=intake_kind, department=UnitKind.department,
                       paying=(UnitKind.department, {"is_paying_unit": True}),
                       centre=UnitKind.dispatch_centre, zone=UnitKind.zone)
        units["desk"] = units["intake"] if intake_kind == UnitKind.window else _units(db, desk=UnitKind.window)["desk"]
        intake_staff = _staff(db, R.window if intake_kind == UnitKind.window else R.clerk, units["intake"])
        desk_staff = intake_staff if units["desk"] is units["intake"] else _staff(db, R.window, units["desk"])
        reviewer = _staff(db, R.handler, units["department"])
        policy = make_policy(department=units["department"],
                             items=("申报表", "营业执照", ("其他材料", False, "pdf,jpg,png")))
        items = list(policy.items)
        application, _ = application_service.save(
            intake_staff, enterprise=make_enterprise(), policy=policy, declared_amount=Decimal("100000.00"),
            materials={item.id: ((), True) for item in items[:2]}, submit=state != "draft",
        )
        ok = {item.id: ("ok", "") for item in items}
        if state == "supplemented":
            application_service.check(application, desk_staff, decision="supplement",
                                      marks={**ok, items[0].id: ("faulty", "缺少盖章")})
            application_service.add_materials(application, desk_staff, materials={items[0].id: ((), True)})
        if state in ("accepted", "approved", "result_issued"):
            application_service.check(application, desk_staff, decision="accept", marks=ok)
        if state in ("approved", "result_issued"):
            application_service.approve(application, reviewer, amount=Decimal("80000.00"))
        if state == "result_issued":
            application_service.issue_result(application, desk_staff)
        db.session.flush()
        # Plain values: the objects expire at the commit and would each be loaded again.
        case = SimpleNamespace(id=application.id, version=application.version, units=units,
                               item_ids=[item.id for item in items], enterprise_id=application.enterprise_id,
                               policy_id=application.policy_id)
        db.session.commit()
        return case
    return build


def application_snapshot(db, application_id):
    """Everything an action may change on an application: its row, checklist, timeline and notices."""
    a, row = Application, ApplicationItem
    return {
        "row": db.session.execute(select(
            a.state, a.version, a.receipt_no, a.declared_amount, a.outcome, a.approved_amount, a.decision_reason,
            a.accepted_on, a.review_due_on, a.result_issued_at, a.disbursed_amount, a.disbursed_on,
        ).where(a.id == application_id)).one(),
        "items": db.session.execute(select(row.item_id, row.paper_received, row.check_status, row.check_reason)
                                    .where(row.application_id == application_id).order_by(row.item_id)).all(),
        "events": db.session.scalar(select(func.count(Event.id)).where(Event.application_id == application_id)),
        "notices": db.session.execute(select(SupplementNotice.id, SupplementNotice.completed_on)
                                      .where(SupplementNotice.application_id == application_id)
                                      .order_by(SupplementNotice.id)).all(),
    }


@pytest.mark.parametrize("own", [True, False], ids=["own_unit", "other_unit"])
@pytest.mark.parametrize("role", STAFF, ids=[r.value for r in STAFF])
@pytest.mark.parametrize("action", list(APPLICATION_ACTIONS))
def test_application_action_by_role_and_unit(client, db, application_case, make_user, make_unit, action, role, own):
    state, may, after_state, overrides = APPLICATION_ACTIONS[action]
    sees = {**APPLICATION_SEES, **overrides.get("sees", {})}
    unit_key = overrides.get("unit", {}).get(role, APPLICATION_OWN_UNIT[role])
    case = application_case(state, UnitKind.window if role is R.window else UnitKind.building_station)
    # "Another unit" of the paying unit is an ordinary department (a fresh unit is not a paying one).
    user = acting_user(make_user, make_unit, case, role, own, unit_key)
    path, form = application_request(action, case)
    before = application_snapshot(db, case.id)

    assert log_in(client, user.username).status_code == 302
    response = client.post(path, data=form)

    want = expected_status(sees, may, role, own)
    assert response.status_code == want, response.get_data(as_text=True)[:2000]
    after = application_snapshot(db, case.id)
    if want == 303:
        assert response.headers["Location"] == f"/applications/{case.id}"
        assert after["row"][0] == after_state and after["row"][1] > before["row"][1]
        assert after["events"] == before["events"] + 1
    else:
        assert after == before


def test_the_reviewing_department_sees_an_approved_result_but_may_not_pay_it_out(
        client, db, application_case, make_user):
    """Outside the matrix: the department that approved sees the case; only the paying unit pays (403)."""
    case = application_case("result_issued", UnitKind.building_station)
    for role in DEPARTMENT:
        user = make_user(role, unit=case.units["department"])
        path, form = application_request("disburse", case)
        before = application_snapshot(db, case.id)
        client.post("/logout")
        assert log_in(client, user.username).status_code == 302
        assert client.post(path, data=form).status_code == 403
        assert application_snapshot(db, case.id) == before


def test_a_lead_departments_handler_may_not_give_the_co_handlers_opinion(client, db, appeal_case, make_user):
    """Outside the matrix: the lead department sees a co-handled appeal, but the opinion is the co-handler's (403)."""
    case = appeal_case("co_pending", UnitKind.building_station)
    path, form = appeal_request("opinion", case)
    before = appeal_snapshot(db, case.id)
    assert log_in(client, make_user(R.handler, unit=case.units["lead"]).username).status_code == 302
    assert client.post(path, data=form).status_code == 403
    assert appeal_snapshot(db, case.id) == before


@pytest.mark.parametrize("prefix, covered", [
    ("/appeals/<int:appeal_id>/",
     {APPEAL_PATHS.get(a, a) for a in APPEAL_ACTIONS if a != "decide_extension"} | {"extensions/<int:extension_id>"}
     | APPEAL_NON_ACTIONS),
    ("/applications/<int:application_id>/", {APPLICATION_PATHS.get(a, a) for a in APPLICATION_ACTIONS}),
])
def test_the_matrix_covers_every_action_on_a_case(app, prefix, covered):
    """A new POST route on a case must get its row in the tables above."""
    routes = {rule.rule[len(prefix):] for rule in app.url_map.iter_rules()
              if rule.rule.startswith(prefix) and "POST" in rule.methods}
    assert routes == covered
