"""What an enterprise does online through its portal account (issue 11, part B): raise an appeal, answer a
supplement notice (一次性告知书), give satisfaction after a reply; and the open salons it can sign up for.

Each action reuses the staff-side operation (services.appeals.record / follow_up, services.applications
add_materials / resubmit, services.files.store_uploads), so an online case is routed, checked and counted
like any other. Those operations name a recording user and unit, and attachments an uploader: online work
is done as the *online desk* (网上办理), one row of the users table in the enterprise service centre that
holds no role and cannot log in; the enterprise account that acted is named in the internal comment and in
the audit log. Bad input raises cases.InputError ({field: message}); a refused transition WorkflowError.
Nothing here commits.
"""
import secrets

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..models import Appeal, AppealCategory, Salon, Satisfaction, Unit, UnitKind, User
from ..models.appeal import CONTENT_MAX, Channel
from ..models.salon import SalonState
from ..workflow import AppealState, ApplicationState, WorkflowError
from . import appeals, applications, audit, contacts, files
from .calendar import today
from .cases import InputError

#: The user name of the online desk (never typed by anyone: the row cannot log in).
ONLINE_DESK_USERNAME = "online_desk"
ONLINE_DESK_NAME = "企业网上办理"


def online_desk():
    """The online desk: created on first use in the (first active) enterprise service centre."""
    desk = db.session.scalar(select(User).where(User.username == ONLINE_DESK_USERNAME))
    if desk is not None:
        return desk
    centre = db.session.scalar(select(Unit).where(Unit.kind == UnitKind.dispatch_centre.value,
                                                  Unit.active.is_(True)).order_by(Unit.id).limit(1))
    if centre is None:
        raise WorkflowError("系统尚未设置企业服务中心，暂不能网上办理，请联系所在楼宇服务站。")
    desk = User(username=ONLINE_DESK_USERNAME, name=ONLINE_DESK_NAME, unit_id=centre.id, active=False,
                must_change_password=False, password_hash=generate_password_hash(secrets.token_hex(32)))
    db.session.add(desk)
    db.session.flush()
    return desk


def _who(account):
    return f"企业用户{account.login_name or account.id}"


# --------------------------------------------------------------------------- raise an appeal online


def categories():
    """The categories an enterprise may choose from (the active ones, in their order)."""
    return appeals.active_categories()


def raise_appeal(account, *, category_id, content, uploads=(), submission_token=None):
    """An appeal raised online (channel `online`) for the account's enterprise and contact, routed at once.
    Returns (appeal, created); a repeated submission token returns the appeal already created."""
    if submission_token:
        done = db.session.scalar(select(Appeal).where(Appeal.submission_token == submission_token))
        if done is not None:
            if done.enterprise_id != account.enterprise_id:
                raise InputError("表单已失效，请刷新页面后重新填写。", field="content")
            return done, False
    errors = {}
    category = db.session.get(AppealCategory, category_id) if category_id else None
    if category is None or not category.active:
        errors["category_id"] = "请选择诉求类别。"
    content = (content or "").strip()
    if not content:
        errors["content"] = "请填写诉求内容。"
    elif len(content) > CONTENT_MAX:
        errors["content"] = f"诉求内容不能超过{CONTENT_MAX}字。"
    if errors:
        raise _input_errors(errors)
    desk = online_desk()
    stored, refused = files.store_uploads(uploads, desk, owner_type="appeal")
    if refused:
        raise InputError("；".join(refused) + "请重新选择文件。", field="attachments")
    appeal, created = appeals.record(
        desk, enterprise=account.enterprise, category=category, channel=Channel.online.value, content=content,
        contact=contacts.latest(account.contact), submission_token=submission_token, attachments=stored)
    audit.record("portal_appeal_raised", appeal, user=account, detail=f"{appeal.receipt_no} {category.name}")
    return appeal, created


def _input_errors(errors):
    """One InputError carrying every {field: message}: the first as its own, all in `field_errors`."""
    field, message = next(iter(errors.items()))
    error = InputError(message, field=field)
    error.field_errors = errors
    return error


# --------------------------------------------------------------------------- answer a supplement notice


def open_notice(application):
    """The supplement notice the enterprise is to answer now, or None (not awaiting supplement)."""
    if application.state != ApplicationState.awaiting_supplement.value:
        return None
    notices = applications.notices_of(application)
    return notices[-1] if notices else None


def notice_rows(application, notice):
    """The notice's items as the enterprise answers them: (PolicyItem, status title, reason, answered)."""
    from ..models import ItemCheck

    items = {i.id: i for i in application.policy.items}
    rows = {r.item_id: r for r in application.items}
    listed = []
    for entry in applications.notice_items(notice):
        item = items.get(entry["item_id"])
        if item is None:
            continue
        row = rows.get(item.id)
        listed.append((item, ItemCheck(entry["status"]).title, entry.get("reason") or "",
                       row is not None and row.check_status is None))
    return listed


def answer_supplement(account, application, *, uploads_by_item, expected_version=None):
    """Upload the missing or faulty items named in the open notice. An item the notice does not name is
    refused; when every named item has new material, the file goes back to the window's check (resubmit).
    Returns True when it was resubmitted."""
    notice = open_notice(application)
    if notice is None:
        raise WorkflowError(f"该申报当前为“{application.state_title}”，不需要补正材料。")
    named = {entry["item_id"] for entry in applications.notice_items(notice)}
    items = {i.id: i for i in application.policy.items}
    item_errors = {}
    posted = {item_id: [u for u in uploads if u and u.filename] for item_id, uploads in uploads_by_item.items()}
    posted = {item_id: uploads for item_id, uploads in posted.items() if uploads}
    for item_id in posted:
        if item_id not in named:
            name = items[item_id].name if item_id in items else "该材料"
            item_errors[item_id] = f"“{name}”不在一次性告知书所列的补正材料中，无需补交。"
    if item_errors:
        raise InputError("只能补交告知书所列的材料。", item_errors=item_errors)
    if not posted:
        raise InputError("请为告知书所列的材料选择要上传的文件。", field="files")
    desk = online_desk()
    materials = {}
    for item_id, uploads in posted.items():
        stored, refused = files.store_uploads(uploads, desk, owner_type="application",
                                              kinds=items[item_id].format_list)
        if refused:
            item_errors[item_id] = "；".join(refused)
        materials[item_id] = (stored, False)
    if item_errors:
        raise InputError("有文件未通过检查，请按提示重新选择。", item_errors=item_errors)
    applications.add_materials(application, desk, materials=materials, expected_version=expected_version)
    audit.record("portal_supplement_sent", application, user=account,
                 detail=f"{application.receipt_no}：" + "、".join(items[i].name for i in posted))
    unanswered = [row for row in application.items if row.item_id in named and row.check_status is not None]
    if unanswered:
        return False
    applications.resubmit(application, desk)
    return True


# --------------------------------------------------------------------------- satisfaction


def rating_refusal(appeal):
    """Why the enterprise cannot rate the appeal now (Chinese), or None when it has a reply not yet rated."""
    if appeal.state == AppealState.replied.value and not appeal.is_merged:
        return None
    if appeal.followed_up_at is not None and appeal.replied_at is not None \
            and appeal.followed_up_at >= appeal.replied_at:
        return "该答复已评价过，不能重复评价。"
    return f"该诉求当前为“{appeal.state_title}”，答复后才能评价。"


def give_satisfaction(account, appeal, *, satisfaction, comment, expected_version=None):
    """The enterprise's own 回访 of the latest reply: 满意 / 基本满意 close the appeal, 不满意 reopens it once
    (services.appeals.follow_up). A reply already rated is refused; 不满意 needs a reason."""
    refusal = rating_refusal(appeal)
    if refusal:
        raise WorkflowError(refusal)
    try:
        verdict = Satisfaction(satisfaction)
    except ValueError:
        raise InputError("请选择满意、基本满意或不满意。", field="satisfaction") from None
    comment = (comment or "").strip()
    if verdict is Satisfaction.unsatisfied and not comment:
        raise InputError("请说明不满意的原因，承办部门将据此重新办理。", field="comment")
    appeals.follow_up(appeal, online_desk(), satisfaction=verdict.value,
                      comment=f"{_who(account)}网上评价" + (f"：{comment}" if comment else "。"),
                      expected_version=expected_version)
    audit.record("portal_satisfaction_given", appeal, user=account, detail=f"{appeal.receipt_no} {verdict.title}")


# --------------------------------------------------------------------------- salons


def open_salons(limit=20):
    """The salons taking sign-ups now, soonest first (linked to the public sign-up page)."""
    return list(db.session.scalars(
        select(Salon).where(Salon.state == SalonState.open.value, Salon.held_on >= today())
        .order_by(Salon.held_on, Salon.id).limit(limit)))
