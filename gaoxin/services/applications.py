"""Policy application operations (政策兑现申报): intake and drafts, window check, supplement, department
review, result and disbursement, notices.

Every transition goes through workflow.application_next_state (WorkflowError, shown as a 409) and checks the
version the user saw (a stale form raises WorkflowError too). Bad input raises InputError (a ValueError,
shown beside the field as a 422). Operations flush and add a timeline Event; they never commit.
"""
import json

from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload, load_only, raiseload

from ..extensions import db
from ..models import (
    Application, ApplicationItem, Attachment, Enterprise, Event, ItemCheck, Policy, SupplementNotice, User, utcnow,
)
from ..permissions import visible_applications
from ..workflow import ApplicationAction as A
from ..workflow import ApplicationState as S
from ..workflow import ApplicationOutcome, WorkflowError, application_next_state
from . import cases, intake
from .calendar import today, working_calendar
from .cases import InputError
from .money import format_money
from .pages import fetch_page
from .policies import application_refusal

STALE = "该申报已被他人更新，请刷新页面查看最新情况后再操作。"

#: Timeline actions that are not workflow transitions, with their titles.
EXTRA_ACTION_TITLES = {"create_draft": "保存草稿", "edit_draft": "修改草稿", "add_materials": "补充材料",
                       "due_recomputed": "期限重新计算"}
#: Notice kinds → Chinese titles (GET /applications/<id>/notice/<kind>).
NOTICE_TITLES = {
    "acceptance": "受理通知书",
    "supplement": "补正材料一次性告知书",
    "refusal": "不予受理通知书",
    "result": "审核结果通知书",
}
#: States in which the application has been accepted (so a 受理通知书 exists).
ACCEPTED_STATES = frozenset({S.accepted.value, S.approved.value, S.rejected.value, S.result_issued.value,
                             S.disbursed.value})




# --------------------------------------------------------------------------- policies


def closed_reason(policy, on=None):
    """Why `policy` cannot be applied for on `on` (default today), or None when it is open."""
    return application_refusal(policy, on or today())


def policy_choices():
    """Active policies, open ones first, each (policy, reason it is closed or None)."""
    policies = db.session.scalars(select(Policy).where(Policy.active.is_(True)).order_by(Policy.code))
    rows = [(p, closed_reason(p)) for p in policies]
    return sorted(rows, key=lambda row: row[1] is not None)


def check_amount_limits(amount, policy, *, field, declared=None):
    if amount > policy.max_amount:
        raise InputError(f"金额不能超过该政策的最高额度{format_money(policy.max_amount)}。", field=field)
    if declared is not None and amount > declared:
        raise InputError(f"核定金额不能超过申报金额{format_money(declared)}。", field=field)


# --------------------------------------------------------------------------- timeline


def _check_version(application, expected_version):
    cases.check_version(application, expected_version, STALE)


def _transition(application, actor, action, *, comment=None, public_text=None, expected_version=None):
    """Move `application` by `action` (raises WorkflowError) and record the event."""
    _check_version(application, expected_version)
    to_state = application_next_state(application.state, action,
                                      approved=application.outcome == ApplicationOutcome.approved)
    return cases.transition(application, actor, action, to_state, comment=comment, public_text=public_text)


def events_of(application):
    return list(db.session.scalars(select(Event).where(Event.application_id == application.id).order_by(Event.id)))


def action_title(action):
    """The Chinese title of a timeline action."""
    from ..workflow import ApplicationAction

    if action in EXTRA_ACTION_TITLES:
        return EXTRA_ACTION_TITLES[action]
    try:
        return ApplicationAction(action).title
    except ValueError:
        return action


# --------------------------------------------------------------------------- materials


def attachments_by_item(application_id):
    """{PolicyItem id: [Attachment, …]} for an application, oldest first (files are never deleted)."""
    if application_id is None:
        return {}
    result = {}
    for attachment in db.session.scalars(
        select(Attachment).where(Attachment.owner_type == "application", Attachment.owner_id == application_id)
        .order_by(Attachment.id)
    ):
        result.setdefault(int(attachment.item_key), []).append(attachment)
    return result


def _row(application, item_id):
    return next((row for row in application.items if row.item_id == item_id), None)


def _add_materials(application, materials):
    """Attach files and paper marks per checklist item; returns the names of the items that changed.

    `materials` maps a PolicyItem id to (attachments, paper_received). New material clears the item's check,
    so that an item with a check status is one that has not changed since the window last checked it.
    """
    changed = []
    for item in application.policy.items:
        attachments, paper = materials.get(item.id, ((), False))
        row = _row(application, item.id)
        if row is None:
            row = ApplicationItem(item_id=item.id, item=item)
            application.items.append(row)
        # A paper copy is new when none was received, or when it replaces one the check flagged.
        replacing = row.paper_received and row.check_status in (ItemCheck.missing.value, ItemCheck.faulty.value)
        new_paper = bool(paper) and (not row.paper_received or replacing)
        for attachment in attachments:
            attachment.owner_id = application.id
            attachment.item_key = str(item.id)
        if attachments or new_paper:
            row.paper_received = row.paper_received or bool(paper)
            row.check_status = row.check_reason = None
            parts = [f"文件{'、'.join(a.filename for a in attachments)}"] if attachments else []
            parts += ["更正后的纸质件" if replacing else "纸质件"] if new_paper else []
            changed.append(f"{item.name}（{'，'.join(parts)}）")
    return changed


def missing_required(application, materials=None, absent=()):
    """{PolicyItem id: message} for required items with neither a file nor a paper copy, except those the
    clerk marked as absent (暂缺: taken in without them, for the window's one-time supplement notice)."""
    have = attachments_by_item(application.id) if application.id else {}
    errors = {}
    for item in application.policy.items:
        new_files, new_paper = (materials or {}).get(item.id, ((), False))
        row = _row(application, item.id)
        paper = new_paper or (row is not None and row.paper_received)
        if item.required and item.id not in absent and not (have.get(item.id) or new_files or paper):
            errors[item.id] = f"“{item.name}”是必交材料：请上传文件，或勾选“纸质件已收”；确实未带的，勾选“暂缺”。"
    return errors


# --------------------------------------------------------------------------- intake


def save(actor, *, application=None, enterprise, policy, declared_amount, contact=None, materials=None,
         absent=(), submit=False, submission_token=None, expected_version=None):
    """Create or update a draft and, with submit=True, submit it (receipt number SB + date + id).

    Returns (application, created). A repeated submission token returns the application already created.
    Raises InputError for a closed policy, an amount above the maximum or a required item with nothing.
    """
    if application is None and submission_token:
        existing = db.session.scalar(select(Application).where(Application.submission_token == submission_token))
        if existing is not None:
            return existing, False
    if application is not None:
        _check_version(application, expected_version)
        if application.state != S.draft.value:
            raise WorkflowError("该申报已提交，不能再按草稿修改。")
    reason = closed_reason(policy)
    if reason:
        raise InputError(reason, field="policy_id")
    check_amount_limits(declared_amount, policy, field="declared_amount")
    created = application is None
    if created:
        application = Application(
            state=S.draft.value, intake_unit_id=actor.unit_id, intake_by_id=actor.id,
            submission_token=submission_token, items=[],
        )
    elif application.policy_id != policy.id:
        # Another policy means another checklist: the old rows go, their files stay in the history.
        application.items = []
    application.enterprise, application.policy, application.contact = enterprise, policy, contact
    application.department_id = policy.department_id
    application.declared_amount = declared_amount
    db.session.add(application)
    if submit:
        errors = missing_required(application, materials, absent)
        if errors:
            raise InputError("有必交材料既未上传文件也未勾选纸质件已收。", item_errors=errors)
    db.session.flush()
    changed = "；".join(_add_materials(application, materials or {})) or None
    if submit:
        application.submitted_at = utcnow()
        application.receipt_no = f"SB{today():%Y%m%d}{application.id:07d}"
        _transition(application, actor, A.submit, comment=changed and f"材料：{changed}", public_text=(
            f"已在{actor.unit.name}提交“{policy.title}”申报，回执号{application.receipt_no}，等待窗口形式审查。"))
    elif created or changed:
        cases.add_event(application, actor, "create_draft" if created else "edit_draft", comment=changed and f"材料：{changed}")
    db.session.flush()
    return application, created


# --------------------------------------------------------------------------- window check (形式审查)


def _notices(application):
    return list(db.session.scalars(
        select(SupplementNotice).where(SupplementNotice.application_id == application.id).order_by(SupplementNotice.id)
    ))


def notice_items(notice):
    return json.loads(notice.items_json)


def _validate_marks(application, marks):
    """Check the window's marks {PolicyItem id: (status, reason)}; returns {PolicyItem id: message}."""
    have = attachments_by_item(application.id)
    errors = {}
    for row in application.items:
        status, reason = marks.get(row.item_id, (None, ""))
        if status not in {c.value for c in ItemCheck}:
            errors[row.item_id] = f"请标记“{row.item.name}”是否齐全。"
        elif status == ItemCheck.faulty.value and not reason:
            errors[row.item_id] = f"请说明“{row.item.name}”有什么问题。"
        elif status == ItemCheck.ok.value and row.item.required and not (have.get(row.item_id) or row.paper_received):
            errors[row.item_id] = f"“{row.item.name}”既没有文件也没有纸质件，不能标记为齐全。"
        elif status != ItemCheck.ok.value and row.check_status is not None:
            # 一次性告知: an item unchanged since the window last checked it could have been listed then.
            errors[row.item_id] = (f"“{row.item.name}”自上次审查以来没有补充或更换材料，本应在此前一并告知，"
                                   "不能再次要求补正。")
    return errors


def _apply_marks(application, marks):
    for row in application.items:
        status, reason = marks[row.item_id]
        row.check_status = status
        row.check_reason = (reason or ("未提交" if status == ItemCheck.missing.value else None))


def check(application, actor, *, decision, marks, reason=None, expected_version=None):
    """形式审查: mark every checklist item, then accept (受理), issue one supplement notice (补正) listing every
    missing or faulty item, or refuse (不予受理, reason required). Raises InputError or WorkflowError."""
    actions = {"accept": A.accept, "supplement": A.supplement, "refuse": A.refuse}
    if decision not in actions:
        raise InputError("请选择受理、一次性告知补正或不予受理。")
    _check_version(application, expected_version)
    application_next_state(application.state, actions[decision])
    if decision == "refuse":
        reason = (reason or "").strip()
        if not reason:
            raise InputError("不予受理须说明理由。", field="reason")
        valid = {c.value for c in ItemCheck}
        _apply_marks(application, {row.item_id: marks[row.item_id] if marks.get(row.item_id, (None,))[0] in valid
                                   else (row.check_status, row.check_reason) for row in application.items})
        _transition(application, actor, A.refuse, comment=reason, public_text=f"不予受理：{reason}")
        return None
    errors = _validate_marks(application, marks)
    if errors:
        raise InputError("请按提示修改材料审查标记。", item_errors=errors)
    flagged = [row for row in application.items if marks[row.item_id][0] != ItemCheck.ok.value]
    if decision == "accept":
        if flagged:
            raise InputError("有材料标记为缺少或有误，不能受理；请一次性告知补正。")
        _apply_marks(application, marks)
        return _accept(application, actor)
    if not flagged:
        raise InputError("没有标记为缺少或有误的材料，无需补正；材料齐全请受理。")
    _apply_marks(application, marks)
    return _supplement(application, actor, flagged, stage="window", action=A.supplement)


def _accept(application, actor):
    notices = _notices(application)
    # The acceptance date is the day the file became complete: the day the last supplement came in.
    accepted_on = notices[-1].completed_on if notices and notices[-1].completed_on else today()
    application.accepted_on = accepted_on
    application.review_due_on = working_calendar().add_workdays(accepted_on, application.policy.review_days)
    _transition(application, actor, A.accept, public_text=(
        f"申报材料齐全，已受理（受理日{accepted_on}），转{application.department.name}审查，"
        f"预计{application.review_due_on}前完成。"))
    return None


def _supplement(application, actor, rows, *, stage, action, comment=None):
    listed = [{"item_id": r.item_id, "item": r.item.name, "status": r.check_status, "reason": r.check_reason or ""}
              for r in rows]
    notice = SupplementNotice(application_id=application.id, issued_by_stage=stage, issued_by_id=actor.id,
                              items_json=json.dumps(listed, ensure_ascii=False))
    db.session.add(notice)
    text = "；".join(f"{i['item']}（{ItemCheck(i['status']).title}：{i['reason']}）" for i in listed)
    who = "窗口形式审查" if stage == "window" else "部门审查"
    _transition(application, actor, action, comment=comment,
                public_text=f"{who}需补正材料，请一次性补齐：{text}。")
    db.session.flush()
    return notice


def add_materials(application, actor, *, materials, expected_version=None):
    """The window adds files or paper marks the enterprise brought (history kept; nothing is deleted)."""
    _check_version(application, expected_version)
    if application.state not in (S.submitted.value, S.awaiting_supplement.value):
        raise WorkflowError(f"当前状态“{application.state_title}”不能补充材料。")
    changed = _add_materials(application, materials)
    if not changed:
        raise InputError("请上传文件或勾选纸质件已收。")
    application.updated_at = utcnow()
    cases.add_event(application, actor, "add_materials", from_state=application.state, comment="补充材料：" + "；".join(changed))
    db.session.flush()


def resubmit(application, actor, *, expected_version=None):
    """补正后提交: every item of the open notice has new material; the file goes back to the window check."""
    _check_version(application, expected_version)
    notices = _notices(application)
    notice = notices[-1] if notices else None
    if notice is not None and application.state == S.awaiting_supplement.value:
        pending = [i["item"] for i in notice_items(notice)
                   if (row := _row(application, i["item_id"])) is not None and row.check_status is not None]
        if pending:
            raise InputError(f"告知书所列材料尚未补齐：{'、'.join(pending)}。请先补充材料。")
    _transition(application, actor, A.resubmit, public_text="补正材料已收齐，等待窗口形式审查。",
                expected_version=expected_version)
    if notice is not None:
        notice.completed_on = today()


# --------------------------------------------------------------------------- department review (实质审查)


def approve(application, actor, *, amount, comment=None, expected_version=None):
    """审核通过 with the approved amount (≤ declared, ≤ the policy's maximum)."""
    _check_version(application, expected_version)
    application_next_state(application.state, A.approve)
    check_amount_limits(amount, application.policy, field="amount", declared=application.declared_amount)
    application.outcome, application.approved_amount = ApplicationOutcome.approved, amount
    application.decision_reason, application.reviewed_at = comment or None, utcnow()
    _transition(application, actor, A.approve, comment=comment, public_text=f"审核通过，核定金额{format_money(amount)}。")


def reject(application, actor, *, reason, expected_version=None):
    """审核不通过, with the reason the enterprise will read."""
    _transition(application, actor, A.reject, public_text=f"审核不通过：{reason}", expected_version=expected_version)
    application.outcome, application.decision_reason = ApplicationOutcome.rejected, reason
    application.reviewed_at = utcnow()


def back_to_supplement(application, actor, *, item_ids, reason, expected_version=None):
    """退回补正 from the department: a department notice listing the items, with the reason."""
    _check_version(application, expected_version)
    application_next_state(application.state, A.back_to_supplement)
    rows = [row for row in application.items if row.item_id in set(item_ids)]
    if not rows:
        raise InputError("请选择需要补正的材料。", field="item_ids")
    for row in rows:
        row.check_status, row.check_reason = ItemCheck.faulty.value, reason
    application.review_due_on = None
    return _supplement(application, actor, rows, stage="department", action=A.back_to_supplement)


# --------------------------------------------------------------------------- result and disbursement


def issue_result(application, actor, *, expected_version=None):
    """出件: the window hands out the result notice (审核结果通知书)."""
    outcome = "审核通过，待财政拨付" if application.outcome == ApplicationOutcome.approved else "审核不通过"
    _transition(application, actor, A.issue_result, public_text=f"审核结果已出件（{outcome}），可到窗口领取审核结果通知书。",
                expected_version=expected_version)
    application.result_issued_at = utcnow()


def disburse(application, actor, *, amount, on, expected_version=None):
    """拨付 by the paying unit: amount ≤ approved, date not in the future."""
    _check_version(application, expected_version)
    application_next_state(application.state, A.disburse, approved=application.outcome == ApplicationOutcome.approved)
    if amount > application.approved_amount:
        raise InputError(f"拨付金额不能超过核定金额{format_money(application.approved_amount)}。", field="amount")
    if on > today():
        raise InputError("拨付日期不能晚于今天。", field="disbursed_on")
    if application.accepted_on and on < application.accepted_on:
        raise InputError(f"拨付日期不能早于受理日{application.accepted_on}。", field="disbursed_on")
    application.disbursed_amount, application.disbursed_on = amount, on
    _transition(application, actor, A.disburse, public_text=f"资金已拨付{format_money(amount)}（{on}）。")


def is_complete(application):
    """Done: disbursed, or a rejection's result handed out, or refused at the window."""
    return application.state in (S.disbursed.value, S.refused.value) or (
        application.state == S.result_issued.value and application.outcome == ApplicationOutcome.rejected)


# --------------------------------------------------------------------------- notices


def notice_available(application, kind, notices=None):
    """Whether the `kind` notice exists for the application in its current state."""
    if kind == "acceptance":
        return application.accepted_on is not None and application.state in ACCEPTED_STATES
    if kind == "supplement":
        return bool(notices if notices is not None else _notices(application))
    if kind == "refusal":
        return application.state == S.refused.value
    if kind == "result":
        return application.state in (S.result_issued.value, S.disbursed.value)
    return False


def notices_of(application):
    return _notices(application)


def last_event(application, action):
    return db.session.scalar(
        select(Event).where(Event.application_id == application.id, Event.action == action)
        .order_by(Event.id.desc()).limit(1)
    )


def due_text(application, calendar=None, on=None):
    """"已超期N个工作日" / "今天到期" / "N个工作日后到期" for an application under review, else ""."""
    if application.state != S.accepted.value or application.review_due_on is None:
        return ""
    calendar, on = calendar or working_calendar(), on or today()
    days = calendar.workdays_between(on, application.review_due_on)
    if application.review_due_on < on:
        return f"已超期{max(-days, 1)}个工作日"
    if application.review_due_on == on:
        return "今天到期"
    return f"{days}个工作日后到期"


def is_overdue(application, on=None):
    return application.state == S.accepted.value and application.review_due_on is not None and \
        application.review_due_on < (on or today())


# --------------------------------------------------------------------------- what the pages read

#: What a list row shows, in one query per page; everything else stays unloaded (and raises if a template asks).
LIST_OPTIONS = (
    joinedload(Application.enterprise).options(load_only(Enterprise.id, Enterprise.name), raiseload("*")),
    joinedload(Application.policy).options(load_only(Policy.id, Policy.title), raiseload("*")),
    joinedload(Application.department).options(raiseload("*")),
    raiseload(Application.items), raiseload(Application.contact), raiseload(Application.intake_unit),
)
#: States a department filters its review list by; the first is the default.
REVIEW_STATES = [S.accepted.value, S.awaiting_supplement.value, S.approved.value, S.rejected.value,
                 S.result_issued.value, S.disbursed.value]


def _list(query, order, page):
    return fetch_page(query.options(*LIST_OPTIONS).order_by(*order), page)


def list_page(user, *, state="", policy_id=None, receipt="", page=1):
    """One page of the applications `user` may see, newest first, filtered; (applications, has_next)."""
    query = visible_applications(user)
    if state:
        query = query.where(Application.state == state)
    if policy_id:
        query = query.where(Application.policy_id == policy_id)
    if receipt:
        query = query.where(Application.receipt_no == receipt)
    return _list(query, (Application.created_at.desc(), Application.id.desc()), page)


def review_page(user, *, state, policy_id=None, receipt="", overdue=False, page=1):
    """One page of the department's applications in `state`, by review deadline."""
    query = visible_applications(user).where(Application.department_id == user.unit_id, Application.state == state)
    if policy_id:
        query = query.where(Application.policy_id == policy_id)
    if receipt:
        query = query.where(Application.receipt_no == receipt)
    if overdue:
        query = query.where(Application.review_due_on < today())
    return _list(query, (Application.review_due_on.asc(), Application.id.asc()), page)


def disbursement_page(user, *, done=False, page=1):
    """One page of approved results awaiting disbursement (oldest first) or, with done, those paid."""
    query = visible_applications(user).where(Application.outcome == ApplicationOutcome.approved)
    if done:
        query = query.where(Application.state == S.disbursed.value)
        order = (Application.disbursed_on.desc(), Application.id.desc())
    else:
        query = query.where(Application.state == S.result_issued.value)
        order = (Application.result_issued_at.asc(), Application.id.asc())
    return _list(query, order, page)


def policies(department_id=None):
    """Every policy (or one department's) by code, for the lists' filters; checklists not loaded."""
    query = select(Policy).options(lazyload(Policy.items)).order_by(Policy.code)
    if department_id is not None:
        query = query.where(Policy.department_id == department_id)
    return list(db.session.scalars(query))


def policy(policy_id):
    """The policy with this id, or None (a form may post any number)."""
    return db.session.get(Policy, policy_id) if policy_id else None


def check_intake(actor, *, enterprise_id, enterprise_query, new_name, new_code, policy, declared_amount,
                 policy_refused=False):
    """The enterprise an intake form names, and {field: message} for the enterprise, the policy (open
    today?) and the declared amount (within the maximum?); the service checks the last two again on save."""
    pick = intake.pick_enterprise(actor, enterprise_id=enterprise_id, query=enterprise_query, new_name=new_name,
                                  new_code=new_code, audit_detail="政策申报登记时登记")
    errors = dict(pick.errors)
    if policy is None:
        if not policy_refused:
            errors["policy_id"] = "请选择有效的申报政策。"
        return pick, errors
    reason = closed_reason(policy)
    if reason:
        errors["policy_id"] = reason
    if declared_amount is not None:
        try:
            check_amount_limits(declared_amount, policy, field="declared_amount")
        except InputError as exc:
            errors["declared_amount"] = str(exc)
    return pick, errors


def materials(policy, pending, paper):
    """{PolicyItem id: (files uploaded for it, paper received?)} for save() and add_materials()."""
    return {item.id: ([a for a in pending if a.item_key == str(item.id)], item.id in paper) for item in policy.items}


def checklist(policy, application, pending, paper, item_errors, absent=()):
    """Per checklist item of the intake form: the files already attached, those uploaded with this form,
    paper, absent, the error."""
    if policy is None:
        return []
    attached = attachments_by_item(application.id) if application is not None and application.policy_id == policy.id else {}
    rows = {r.item_id: r for r in application.items} if application is not None else {}
    return [{
        "item": item,
        "accept": ",".join("." + f for f in item.format_list) + (",.jpeg" if "jpg" in item.format_list else ""),
        "files": attached.get(item.id, []),
        "pending": [a for a in pending if a.item_key == str(item.id)],
        "paper_kept": bool(rows.get(item.id) and rows[item.id].paper_received),
        "paper": item.id in paper,
        "absent": item.id in absent,
        "error": item_errors.get(item.id),
    } for item in policy.items]


def check_rows(application, attached, marks=None):
    """Per checklist item of the window check: files, paper, the mark to show, whether it may still be flagged."""
    rows = []
    for row in application.items:
        has_material = bool(attached.get(row.item_id) or row.paper_received)
        default = row.check_status or (ItemCheck.ok.value if has_material or not row.item.required else ItemCheck.missing.value)
        mark, reason = (marks or {}).get(row.item_id) or (default, row.check_reason or "")
        rows.append({"row": row, "item": row.item, "files": attached.get(row.item_id, []), "mark": mark or default,
                     "reason": reason, "unchanged": row.check_status is not None})
    return rows


#: Notice kind → the timeline action that issued it (the supplement notice has its own rows).
_NOTICE_EVENTS = {"acceptance": "accept", "refusal": "refuse", "result": "issue_result"}


def notice_context(application, kind, notice_id=None):
    """What a printable notice shows (title, issuing unit, date, the supplement notice and its items),
    or None when no such notice exists for the application."""
    notices = notices_of(application)
    if kind not in NOTICE_TITLES or not notice_available(application, kind, notices):
        return None
    supplement, event = None, None
    if kind == "supplement":
        supplement = next((n for n in notices if n.id == notice_id), None) if notice_id else notices[-1]
        if supplement is None:
            return None
        issuer = db.session.get(User, supplement.issued_by_id).unit
    else:
        event = last_event(application, _NOTICE_EVENTS[kind])
        issuer = event.actor_unit if event is not None and event.actor_unit is not None else application.intake_unit
    return {"title": NOTICE_TITLES[kind], "supplement": supplement, "event": event, "issuer": issuer,
            "items": notice_items(supplement) if supplement else [],
            "issued_at": supplement.issued_at if supplement else (event.at if event else None)}
