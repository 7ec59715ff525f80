"""Appeal operations: record, route, dispatch, sign, return, extend, supervise, reply, follow up, withdraw.

Every operation checks the transition in workflow.py (WorkflowError, shown as a 409) and the version the
user saw (a stale form raises WorkflowError too); it flushes and adds a timeline event, never commits.
"""
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, lazyload

from ..extensions import db
from ..models import (
    Appeal, AppealCategory, AppealCoHandler, Event, Extension, ExtensionStatus, ReplyOutcome, Satisfaction,
    Unit, UnitKind, User, utcnow,
)
from ..models.appeal import SIGN_DAYS, Channel
from ..permissions import visible_appeals
from ..workflow import AppealAction as A
from ..workflow import AppealState as S
from ..workflow import WorkflowError, appeal_next_state
from . import cases
from . import intake as intake_rules
from . import salons
from .calendar import today, working_calendar
from .pages import fetch_page

STALE = "该诉求已被他人更新，请刷新页面查看最新情况后再操作。"


def _check_version(appeal, expected_version):
    cases.check_version(appeal, expected_version, STALE)


def _transition(appeal, actor, action, *, comment=None, public_text=None, expected_version=None):
    """Move `appeal` by `action` (raises WorkflowError) and record the event."""
    _check_version(appeal, expected_version)
    to_state = appeal_next_state(appeal.state, action, reopened_before=appeal.reopened)
    return cases.transition(appeal, actor, action, to_state, comment=comment, public_text=public_text)


def _start_clock(appeal, handling_days=None):
    """Deadlines from now: sign within 1 working day, handle within the category's limit."""
    calendar, start = working_calendar(), today()
    appeal.dispatched_at = utcnow()
    appeal.sign_due_on = calendar.add_workdays(start, SIGN_DAYS)
    appeal.handling_days = handling_days or appeal.handling_days
    appeal.due_on = calendar.add_workdays(start, appeal.handling_days)
    appeal.signed_at = appeal.signed_in_time = appeal.assignee_id = None


def _set_co_handlers(appeal, co_units):
    lead = appeal.lead_unit_id
    appeal.co_handlers = [AppealCoHandler(unit_id=u.id) for u in co_units if u.id != lead]


def record(actor, *, enterprise, category, channel, content, contact=None, salon=None,
           submission_token=None, attachments=(), no_contact_reason=None, check_token=True):
    """Register an appeal and route it at once; returns (appeal, created). A repeated submission
    token returns the appeal already created (double click, resubmitted form); with `check_token=False`
    the caller skips that look-up and relies on the token's unique index instead (the flush raises
    IntegrityError, and the caller rolls back and shows the appeal the token made)."""
    if submission_token and check_token:
        existing = db.session.scalar(select(Appeal).where(Appeal.submission_token == submission_token))
        if existing is not None:
            return existing, False
    appeal = Appeal(
        enterprise=enterprise, contact=contact, category=category, channel=channel, salon=salon,
        content=content, state=S.registered.value, recorded_by_id=actor.id, recording_unit_id=actor.unit_id,
        handling_days=category.handling_days, submission_token=submission_token,
        no_contact_reason=(no_contact_reason or "").strip() or None,
        # Empty from the start: routing then sets the co-handlers without reading the (empty) collection.
        co_handlers=[],
    )
    # Nothing is written until the appeal is complete (receipt number, routing, deadlines, both timeline
    # events): then one flush sends one INSERT of the appeal and one of its events, instead of an INSERT
    # and two UPDATEs of the appeal and an INSERT per event. A statement run meanwhile (the id's, the
    # calendar's stamp when the request has not read it yet) must not flush the appeal half-made.
    with db.session.no_autoflush:
        appeal.id = _reserve_id()
        db.session.add(appeal)
        if appeal.id is None:  # SQLite: no sequence to ask; the id comes from the INSERT
            db.session.flush()
        appeal.receipt_no = f"SQ{today():%Y%m%d}{appeal.id:07d}"
        for attachment in attachments:
            attachment.owner_id = appeal.id
        cases.add_event(appeal, actor, "register", public_text=f"诉求已登记（{actor.unit.name}），回执号{appeal.receipt_no}。")
        route(appeal, actor)
    db.session.flush()
    return appeal, True


def _reserve_id():
    """The new appeal's id taken from its sequence before the INSERT (the receipt number is made from it), on
    PostgreSQL; None on SQLite, which assigns it on INSERT. A rolled-back intake leaves a gap in the ids, as
    a failed INSERT always did."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    return db.session.scalar(select(func.nextval(func.pg_get_serial_sequence("appeals", "id"))))


def route(appeal, actor):
    """Apply the category's rule: lead and co-handling departments, or the dispatch centre's queue."""
    category = appeal.category
    if category.lead_unit_id is None or not category.lead_unit.active:
        centre = current_app.config["GAOXIN_CENTRE_NAME"]
        _transition(appeal, actor, A.queue, public_text=f"诉求已提交{centre}，正在分派承办部门。")
        return
    appeal.lead_unit_id = category.lead_unit_id
    _set_co_handlers(appeal, [u for u in category.co_units if u.active])
    _start_clock(appeal, category.handling_days)
    _transition(appeal, actor, A.route, public_text=f"已转交{category.lead_unit.name}办理。")


def dispatch(appeal, actor, *, lead_unit, co_units=(), handling_days=None, comment=None, expected_version=None):
    """The dispatcher sends the appeal to a lead department (and co-handlers), restarting its clock."""
    if lead_unit.kind != UnitKind.department.value or not lead_unit.active:
        raise WorkflowError("承办部门须为在用的职能部门。")
    _check_version(appeal, expected_version)
    appeal.lead_unit_id = lead_unit.id
    appeal.lead_unit = lead_unit
    _set_co_handlers(appeal, co_units)
    _start_clock(appeal, handling_days or appeal.category.handling_days)
    names = "、".join(u.name for u in co_units if u.id != lead_unit.id)
    _transition(
        appeal, actor, A.dispatch, comment=comment,
        public_text=f"已转交{lead_unit.name}办理" + (f"，{names}协办。" if names else "。"),
    )


def sign(appeal, actor, *, expected_version=None):
    """Sign for the appeal in the lead department's inbox. Of two at once, exactly one wins."""
    if appeal.state == S.in_progress.value and appeal.assignee is not None:
        who = appeal.assignee
        raise WorkflowError(f"该诉求已由{who.name}（{who.unit.name}）签收，无需重复签收。")
    _transition(appeal, actor, A.sign, public_text="承办部门已签收，正在办理。", expected_version=expected_version)
    now = utcnow()
    appeal.signed_at = now
    appeal.assignee_id = actor.id
    appeal.signed_in_time = today() <= appeal.sign_due_on if appeal.sign_due_on else True


def return_to_dispatch(appeal, actor, *, reason, suggested_unit=None, expected_version=None):
    """The department says it is not theirs: back to the dispatcher, with the reason; it leaves the inbox."""
    comment = reason + (f"（建议转{suggested_unit.name}）" if suggested_unit else "")
    _transition(appeal, actor, A.return_, comment=comment, public_text="正在重新分派承办部门。",
                expected_version=expected_version)
    appeal.return_count += 1
    # The clock restarts when the dispatcher sends it on; no department is late while it waits.
    appeal.sign_due_on = appeal.due_on = None
    appeal.lead_unit_id = None
    appeal.lead_unit = None
    appeal.assignee_id = None
    appeal.co_handlers = []
    for extension in _pending_extensions(appeal):
        extension.status = ExtensionStatus.refused.value
        extension.decision_comment = "诉求已退单，延期申请自动作废。"


def assign(appeal, actor, *, assignee, expected_version=None):
    """The department lead gives the appeal to a handler of the department."""
    if assignee.unit_id != appeal.lead_unit_id or not assignee.active:
        raise WorkflowError("只能指派给本部门在用的经办人。")
    _transition(appeal, actor, A.assign, comment=f"指派给{assignee.name}", expected_version=expected_version)
    appeal.assignee_id = assignee.id
    appeal.assignee = assignee


def add_note(appeal, actor, *, text):
    """An internal note (内部备注): staff only, never shown to the enterprise."""
    return _transition(appeal, actor, A.note, comment=text)


def _pending_extensions(appeal):
    return list(db.session.scalars(
        select(Extension).where(Extension.appeal_id == appeal.id, Extension.status == ExtensionStatus.pending.value)
    ))


def request_extension(appeal, actor, *, days, reason, expected_version=None):
    """Ask the dispatcher for more working days."""
    if _pending_extensions(appeal):
        raise WorkflowError("已有一条延期申请待审批，请等待调度中心处理。")
    _transition(appeal, actor, A.extend_request, comment=f"申请延期{days}个工作日：{reason}",
                expected_version=expected_version)
    extension = Extension(appeal_id=appeal.id, days=days, reason=reason, requested_by_id=actor.id)
    db.session.add(extension)
    return extension


def decide_extension(extension, actor, *, approve, comment=None):
    """The dispatcher approves (the deadline moves by the days asked) or refuses an extension."""
    if extension.status != ExtensionStatus.pending.value:
        raise WorkflowError(f"该延期申请已处理（{extension.status_title}）。")
    appeal = extension.appeal
    extension.status = (ExtensionStatus.approved if approve else ExtensionStatus.refused).value
    extension.decided_by_id = actor.id
    extension.decided_at = utcnow()
    extension.decision_comment = comment
    if approve:
        appeal.due_on = working_calendar().add_workdays(appeal.due_on, extension.days)
        appeal.extended_days += extension.days
        _transition(appeal, actor, A.extend_approve, comment=comment,
                    public_text=f"办理期限延长至{appeal.due_on:%Y-%m-%d}。")
    else:
        _transition(appeal, actor, A.extend_refuse, comment=comment)


def supervise(appeal, actor, *, comment=None, expected_version=None):
    """督办: the dispatcher flags the case; it is listed first in the department's inbox."""
    if appeal.supervised_at is not None:
        raise WorkflowError("该诉求已在督办中。")
    _transition(appeal, actor, A.supervise, comment=comment, expected_version=expected_version)
    appeal.supervised_at = utcnow()


def give_opinion(appeal, actor, *, text):
    """A co-handling department's opinion; the lead may reply only when every co-handler has given one."""
    row = next((c for c in appeal.co_handlers if c.unit_id == actor.unit_id), None)
    if row is None:
        raise WorkflowError("本部门不是该诉求的协办部门。")
    if row.opinion_at is not None:
        raise WorkflowError("本部门已提交协办意见。")
    _transition(appeal, actor, A.co_opinion, comment=text)
    row.opinion, row.opinion_at, row.opinion_by_id = text, utcnow(), actor.id


def reply(appeal, actor, *, outcome, text, expected_version=None):
    """答复: the outcome and the text the enterprise will see."""
    waiting = [c.unit.name for c in appeal.co_handlers if c.opinion_at is None]
    if waiting:
        raise WorkflowError(f"还有协办部门未提交意见（{'、'.join(waiting)}），暂不能答复。")
    outcome = ReplyOutcome(outcome)
    _transition(appeal, actor, A.reply, public_text=f"已答复（{outcome.title}）：{text}",
                expected_version=expected_version)
    appeal.reply_outcome, appeal.reply_text, appeal.replied_at = outcome.value, text, utcnow()
    appeal.replied_in_time = today() <= appeal.due_on if appeal.due_on else True
    # 并案: every enterprise whose duplicate was merged into this case reads the answer on its own receipt.
    for duplicate in duplicates_of(appeal):
        cases.add_event(duplicate, actor, A.reply.value,
                        public_text=f"主诉求{appeal.receipt_no}已答复（{outcome.title}）：{text}")


def follow_up(appeal, actor, *, satisfaction, comment=None, expected_version=None):
    """回访: satisfied closes it; unsatisfied reopens it once to the same department (重办), then closes."""
    satisfaction = Satisfaction(satisfaction)
    action = A.follow_up_unsatisfied if satisfaction is Satisfaction.unsatisfied else A.follow_up_satisfied
    reopen = action is A.follow_up_unsatisfied and not appeal.reopened
    public = f"已回访：{satisfaction.title}。" + ("诉求已退回承办部门重新办理。" if reopen else "诉求已办结。")
    _transition(appeal, actor, action, comment=comment, public_text=public, expected_version=expected_version)
    appeal.satisfaction, appeal.followed_up_at = satisfaction.value, utcnow()
    if reopen:
        appeal.reopened = True
        appeal.due_on = working_calendar().add_workdays(today(), appeal.handling_days)
    else:
        appeal.closed_at = utcnow()


def withdraw(appeal, actor, *, reason, expected_version=None):
    """撤回 at the enterprise's request, with the reason."""
    _transition(appeal, actor, A.withdraw, comment=reason, public_text="应企业要求，诉求已撤回。",
                expected_version=expected_version)
    appeal.closed_at = utcnow()


def merge(appeal, actor, *, main_receipt, reason=None, expected_version=None):
    """并案: close `appeal` as a duplicate of the open appeal with receipt number `main_receipt` (one the actor
    may see); the main case is handled and answered for both, its reply reaching this enterprise too.
    A bad main raises InputError beside the receipt field; the transition may raise WorkflowError."""
    main_receipt = "".join((main_receipt or "").split()).upper()
    main = db.session.scalar(visible_appeals(actor).where(Appeal.receipt_no == main_receipt))
    if main is None:
        raise cases.InputError("没有找到该回执号的诉求（或您无权查看），请核对。", field="main_receipt")
    if main.id == appeal.id:
        raise cases.InputError("不能并入本诉求自身，请填写另一条诉求的回执号。", field="main_receipt")
    if main.is_merged:
        raise cases.InputError(f"该诉求本身已并案至{main.merged_into.receipt_no}，请填写该主诉求的回执号。",
                               field="main_receipt")
    if not S(main.state).is_open:
        raise cases.InputError(f"主诉求{main.receipt_no}已{main.state_title}，不能再并入，请另选主诉求。",
                               field="main_receipt")
    reason = (reason or "").strip()
    _transition(appeal, actor, A.merge, comment=f"并入{main.receipt_no}" + (f"：{reason}" if reason else ""),
                public_text=f"已并案至{main.receipt_no}，由该诉求一并办理，答复将同时告知贵企业。",
                expected_version=expected_version)
    now = utcnow()
    appeal.merged_into_id, appeal.merged_at, appeal.closed_at = main.id, now, now
    for extension in _pending_extensions(appeal):
        extension.status = ExtensionStatus.refused.value
        extension.decision_comment = "诉求已并案，延期申请自动作废。"
    # Duplicates already merged into this one follow it to the main case: one level, never a chain.
    for earlier in duplicates_of(appeal):
        earlier.merged_into_id = main.id
    cases.add_event(main, actor, A.merge.value,
                    comment=f"并入重复诉求{appeal.receipt_no}（{appeal.enterprise.name}）" + (f"：{reason}" if reason else ""))
    main.updated_at = now
    return main


def duplicates_of(appeal):
    """The duplicates merged into `appeal`, oldest first."""
    return list(db.session.scalars(select(Appeal).where(Appeal.merged_into_id == appeal.id).order_by(Appeal.id)))


def case_file(appeal):
    """(timeline, extensions, duplicates) of the appeal page. Asking for an extension and merging a duplicate
    into an appeal each write an event on its timeline (extend_request; merge on the main case, also when
    earlier duplicates follow a merged case to its main), so an appeal whose timeline has neither — nearly
    every one — needs neither query: each loads the whole Appeal with its joins, a quarter of the page's time."""
    events = events_of(appeal)
    actions = {event.action for event in events}
    extensions = extensions_of(appeal) if A.extend_request.value in actions else []
    duplicates = duplicates_of(appeal) if A.merge.value in actions else []
    return events, extensions, duplicates


def active_categories():
    return list(db.session.scalars(
        select(AppealCategory).where(AppealCategory.active.is_(True)).order_by(AppealCategory.position, AppealCategory.id)
    ))


def departments():
    return list(db.session.scalars(
        select(Unit).where(Unit.kind == UnitKind.department.value, Unit.active.is_(True)).order_by(Unit.id)
    ))


@dataclass
class Intake:
    """What an intake submission came to: the appeal recorded, or the enterprise found so far, the
    candidates to choose from and {form field: message} for every mistake."""

    appeal: Appeal | None = None
    enterprise: object = None
    candidates: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    #: Non-blocking notes for the clerk (an enterprise the registry lists as 注销/吊销).
    warnings: list = field(default_factory=list)


#: An appeal needs someone to call for the 回访, or the reason why there is nobody.
NO_CONTACT = "请选择有手机号的联系人，或填写新联系人的姓名和手机；确实无法提供的，请填写原因。"


def intake(actor, *, enterprise_id=None, enterprise_query="", new_enterprise_name="", new_credit_code="",
           contact_id=None, contact_name="", contact_mobile="", no_contact_reason="", category_id=None,
           channel=None, salon_id=None, content, submission_token=None, attachments=(), check_only=False,
           check_token=True):
    """登记 at any counter: resolve the enterprise and contact, check category, channel and salon, then
    record and route the appeal. Returns an Intake; with errors (or `check_only`, for a form that failed its
    own checks: its mistakes and these show together) nothing is recorded — the caller rolls back a contact
    or enterprise added on the way. `check_token` as in record()."""
    pick = intake_rules.pick_enterprise(
        actor, enterprise_id=enterprise_id, query=enterprise_query, new_name=new_enterprise_name,
        new_code=new_credit_code, audit_detail="诉求登记时登记")
    result = Intake(enterprise=pick.enterprise, candidates=pick.candidates, errors=dict(pick.errors))
    if pick.enterprise is not None and pick.enterprise.is_terminated:
        result.warnings.append(f"注意：该企业登记状态为“{pick.enterprise.status}”，请核实企业是否仍在经营。")
    # The co-handling units in the same statement (routing reads them), not in a second one.
    category = db.session.get(AppealCategory, category_id, options=[joinedload(AppealCategory.co_units)]) \
        if category_id else None
    if category is None or not category.active:
        result.errors["category_id"] = "请选择有效的诉求类别。"
    if channel not in {c.value for c in Channel}:
        result.errors["channel"] = "请选择有效的受理渠道。"
    salon = salons.get(salon_id)
    if channel == Channel.salon.value and salon is None:
        result.errors["salon_id"] = "沙龙渠道须选择所属沙龙。"
    contact = None
    if pick.enterprise is not None:
        contact, contact_errors = intake_rules.pick_contact(
            pick.enterprise, contact_id=contact_id, name=contact_name, mobile=contact_mobile)
        result.errors.update(contact_errors)
        reason = (no_contact_reason or "").strip()
        if not contact_errors and not reason and (contact is None or not contact.mobile):
            field_name = "contact_mobile" if contact is not None and contact_id is None else "contact_id"
            result.errors[field_name] = NO_CONTACT
    if pick.enterprise is None or result.errors or check_only:
        return result
    result.appeal, _ = record(
        actor, enterprise=pick.enterprise, category=category, channel=channel, content=content.strip(),
        contact=contact, salon=salon, submission_token=submission_token, attachments=attachments,
        no_contact_reason=no_contact_reason if contact is None or not contact.mobile else None,
        check_token=check_token)
    return result


# --------------------------------------------------------------------------- what the pages read


def search_page(user, *, state=None, category_id=None, receipt="", enterprise_id=None, page=1):
    """One page of the appeals `user` may see, newest first, filtered; (appeals, has_next)."""
    query = visible_appeals(user)
    if enterprise_id:
        query = query.where(Appeal.enterprise_id == enterprise_id)
    if state:
        query = query.where(Appeal.state == state)
    if category_id:
        query = query.where(Appeal.category_id == category_id)
    if receipt:
        query = query.where(Appeal.receipt_no == receipt)
    return fetch_page(query.order_by(Appeal.created_at.desc(), Appeal.id.desc()), page)


def events_of(appeal):
    """The appeal's timeline, oldest first. Of each actor the timeline shows the name: not its roles (a
    second statement on every appeal page)."""
    return list(db.session.scalars(select(Event).where(Event.appeal_id == appeal.id)
                                   .options(lazyload(Event.actor, User.role_rows)).order_by(Event.id)))


def extensions_of(appeal):
    """Every extension asked for on the appeal, oldest first (without loading the appeal again per row)."""
    return list(db.session.scalars(select(Extension).where(Extension.appeal_id == appeal.id)
                                   .options(lazyload(Extension.appeal)).order_by(Extension.id)))


def extension_of(appeal, extension_id):
    """One extension request of this appeal, or None."""
    return db.session.scalar(select(Extension).where(Extension.id == extension_id, Extension.appeal_id == appeal.id))


def staff_of(unit_id):
    """The active users of a unit, by name (whom a department lead may assign)."""
    return list(db.session.scalars(select(User).where(User.unit_id == unit_id, User.active.is_(True)).order_by(User.name)))


def department(unit_id):
    """The active department with this id, or None (a form may post any number)."""
    unit = db.session.get(Unit, unit_id) if unit_id else None
    return unit if unit is not None and unit.kind == UnitKind.department.value else None


def user(user_id):
    """The user with this id, or None."""
    return db.session.get(User, user_id) if user_id else None
