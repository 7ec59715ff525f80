"""Appeals (诉求): intake at any counter, the appeal page with its actions and timeline, receipts, files."""
import secrets

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..forms import appeals as forms
from ..forms.fields import LazyForms, add_errors
from ..htmx import is_fragment_request, render
from ..models import Appeal, UnitKind
from ..models.appeal import Channel
from ..permissions import appeal_actions_for, can, require, visible_appeals
from ..services import appeals as service
from ..services import files, intake, phrases, salons
from ..services.audit import record
from ..services.calendar import today, working_calendar
from ..workflow import AppealState, WorkflowError
from .actions import CaseKind, add_action_routes, send_attachment

bp = Blueprint("appeals", __name__, url_prefix="/appeals")

#: The channel an intake unit records by default.
DEFAULT_CHANNEL = {
    UnitKind.building_station.value: Channel.building_station.value,
    UnitKind.service_point.value: Channel.service_point.value,
    UnitKind.window.value: Channel.window.value,
}


# --------------------------------------------------------------------------- list


@bp.get("/")
@login_required
def index():
    """The appeals the user may see, newest first, filtered by state, category or receipt number."""
    require("appeal.list")
    filters = {
        "state": request.args.get("state") or "", "category": request.args.get("category", type=int) or "",
        "receipt": (request.args.get("receipt") or "").strip().upper(),
        "enterprise": request.args.get("enterprise", type=int) or "",
    }
    page = max(request.args.get("page", 1, type=int), 1)
    rows, has_next = service.search_page(
        current_user, state=filters["state"], category_id=filters["category"], receipt=filters["receipt"],
        enterprise_id=filters["enterprise"], page=page)
    return render(
        "appeals/index.html", block="results", appeals=rows, page=page, has_next=has_next,
        states=[(s.value, s.title) for s in AppealState], categories=service.active_categories(),
        filters=filters, calendar=working_calendar(), today=today(),
    )


# --------------------------------------------------------------------------- intake


def _intake_choices(form, enterprise):
    form.category_id.choices = [("", "请选择")] + [(c.id, c.name) for c in service.active_categories()]
    form.salon_id.choices = [("", "（不属于沙龙）")] + [(s.id, f"{s.held_on:%Y-%m-%d} {s.theme}") for s in salons.recent()]
    form.contact_id.choices = intake.contact_choices(enterprise)


def _preselect_contact(form, enterprise):
    """Offer the enterprise's usual contact unless the clerk chose one or is typing a new one."""
    if form.contact_id.data or form.contact_name.data or form.contact_mobile.data or enterprise is None:
        return
    usual = intake.usual_contact(enterprise)
    if usual is not None:
        form.contact_id.data = usual.id


def _prefill_intake(form):
    form.submission_token.data = secrets.token_urlsafe(24)
    form.channel.data = DEFAULT_CHANNEL.get(current_user.unit.kind, Channel.phone.value)
    form.enterprise_id.data = request.args.get("enterprise", type=int) or None
    if request.args.get("salon", type=int):
        form.salon_id.data = request.args.get("salon", type=int)
        form.channel.data = Channel.salon.value


def _record(form, pending, check_only=False):
    """Check and record; returns (appeal or None, enterprise, candidates). Errors land on the form."""
    result = service.intake(
        current_user, enterprise_id=form.enterprise_id.data, enterprise_query=form.enterprise_query.data,
        new_enterprise_name=form.new_enterprise_name.data, new_credit_code=form.new_credit_code.data,
        contact_id=form.contact_id.data, contact_name=form.contact_name.data,
        contact_mobile=form.contact_mobile.data, no_contact_reason=form.no_contact_reason.data,
        category_id=form.category_id.data, channel=form.channel.data, salon_id=form.salon_id.data,
        content=form.content.data or "", submission_token=form.submission_token.data, attachments=pending,
        check_only=check_only, check_token=False)
    # A field the form already refused keeps the form's message only (one message per mistake).
    add_errors(form, {name: message for name, message in result.errors.items()
                      if not (name in form and form[name].errors)})
    for warning in result.warnings if result.appeal is not None else ():
        flash(warning, "warning")
    return result.appeal, result.enterprise, result.candidates


def _find_enterprise(form):
    """The 查找企业 button (works without JavaScript): resolve what was typed into an enterprise, or the
    candidates, and nothing else — no mistakes are shown for fields not filled in yet."""
    pick = intake.pick_enterprise(current_user, enterprise_id=form.enterprise_id.data, query=form.enterprise_query.data,
                                  audit_detail="诉求登记时查找")
    db.session.rollback()
    add_errors(form, pick.errors)
    if pick.enterprise is not None:
        form.enterprise_id.data = pick.enterprise.id
        form.enterprise_query.data = pick.enterprise.name
    return pick.candidates


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """The intake form (登记): one form for stations, points, the window and salons; every mistake is
    reported on the first submission."""
    require("appeal.create")
    form = forms.IntakeForm()
    if request.method == "POST" and request.form.get("intent") != "find":
        return _submit(form)
    if request.method == "POST" and (appeal_id := _created_by(form)) is not None:
        return _show_created(appeal_id)
    if request.method == "GET":
        _prefill_intake(form)
    pending = _pending(form)
    if request.method == "POST":
        return _find(form, pending)
    enterprise = intake.visible_enterprise(current_user, form.enterprise_id.data)
    _preselect_contact(form, enterprise)
    return _intake_page(form, enterprise, [], pending, 200)


def _created_by(form):
    """The id of the appeal this form's one-time token already recorded (double click, reload), or None."""
    token = form.submission_token.data
    return db.session.scalar(select(Appeal.id).where(Appeal.submission_token == token)) if token else None


def _show_created(appeal_id):
    """The same form sent again: the appeal it created, as the first submission showed it."""
    return redirect(url_for("appeals.show", appeal_id=appeal_id, created=1), code=303)


def _pending(form):
    return files.pending_attachments(current_user, (form.attachment_ids.data or "").split(","), "appeal")


def _find(form, pending):
    """查找企业 without JavaScript: no files are stored and nothing is checked but the enterprise (the clerk
    is still filling in); the page comes back with its contacts."""
    candidates = _find_enterprise(form)
    enterprise = intake.visible_enterprise(current_user, form.enterprise_id.data)
    if enterprise is None or form.contact_id.data not in {c.id for c in enterprise.contacts}:
        form.contact_id.data = None
    _preselect_contact(form, enterprise)
    return _intake_page(form, enterprise, candidates, pending, 422 if form.errors else 200)


def _submit(form):
    """Store the files (committed even when the rest is wrong: nobody uploads twice), then record; on any
    mistake the form comes back with every message, what was typed and the files.

    The one-time token: a form sent again after it recorded an appeal is shown that appeal. The token's
    unique index decides — the second INSERT fails and that request shows the appeal the first made — so a
    submission pays no look-up first. Only a form that brings files looks first, so that a double click
    does not store them twice; and a form with mistakes looks before it is shown again."""
    if any(upload and upload.filename for upload in form.files.data or ()) \
            and (appeal_id := _created_by(form)) is not None:
        return _show_created(appeal_id)
    pending = _pending(form)
    valid = form.validate_on_submit()
    stored, refused = files.store_uploads(form.files.data, current_user, owner_type="appeal")
    form.files.errors = list(form.files.errors) + refused
    pending += stored
    if stored:
        # Only when there is something to keep (and without expiring the user, read again otherwise).
        _commit_and_keep()
    try:
        # The service checks what the form cannot (enterprise, contact, category) even when the form
        # failed its own checks, so that every mistake shows at once; it records only when all is well.
        appeal, enterprise, candidates = _record(form, pending, check_only=not valid or bool(refused))
        if appeal is not None:
            appeal_id, message = appeal.id, f"诉求已登记，回执号 {appeal.receipt_no}，已{appeal.state_title}。"
            _commit_and_keep()
    except IntegrityError:
        # The same form sent again (double click, reload), or twice at the same instant: the token's unique
        # index refused this one; the other request created the appeal.
        db.session.rollback()
        if (appeal_id := _created_by(form)) is None:
            raise
        return _show_created(appeal_id)
    if appeal is not None:
        flash(message, "success")
        return _show_created(appeal_id)
    form.enterprise_id.data = enterprise.id if enterprise else form.enterprise_id.data
    # Nothing recorded: undo a contact or enterprise added on the way; the files stay, offered again.
    pending_ids = [a.id for a in pending]
    db.session.rollback()
    if (appeal_id := _created_by(form)) is not None:
        # Mistakes in a form that had already recorded its appeal (sent again after an edit): that appeal.
        return _show_created(appeal_id)
    pending = files.pending_attachments(current_user, pending_ids, "appeal")
    enterprise = intake.visible_enterprise(current_user, form.enterprise_id.data)
    return _intake_page(form, enterprise, candidates, pending, 422)


def _commit_and_keep():
    """Commit without expiring what the session holds: the request ends here with a redirect, and expired
    objects would be read again for nothing — the request log's user (its id and unit: the user and its roles,
    two statements after the commit)."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _intake_page(form, enterprise, candidates, pending, status):
    _intake_choices(form, enterprise)
    form.attachment_ids.data = ",".join(str(a.id) for a in pending)
    return render("appeals/new.html", form=form, enterprise=enterprise, candidates=candidates,
                  pending=pending, status=status)


@bp.get("/contact-options")
@login_required
def contact_options():
    """The contact select for an enterprise picked in the intake form (htmx fragment)."""
    require("appeal.create")
    enterprise = intake.visible_enterprise(current_user, request.args.get("enterprise_id", type=int))
    form = forms.IntakeForm(formdata=None)
    _intake_choices(form, enterprise)
    _preselect_contact(form, enterprise)
    return render("appeals/new.html", block="contact_select", form=form, enterprise=enterprise)


@bp.route("/salons/new", methods=["GET", "POST"])
@login_required
def new_salon():
    """A minimal salon record (theme, date, venue) so appeals can be tagged with it."""
    require("appeal.create")
    form = forms.SalonQuickForm()
    if form.validate_on_submit():
        salon = salons.create(current_user, theme=form.theme.data, held_on=form.held_on.data, venue=form.venue.data)
        db.session.commit()
        flash(f"沙龙“{salon.theme}”已登记。", "success")
        return redirect(url_for("appeals.new", salon=salon.id), code=303)
    return render("appeals/salon_new.html", form=form, status=422 if request.method == "POST" else 200)


# --------------------------------------------------------------------------- the appeal page


def _choices(units, blank="请选择"):
    return [("", blank)] + [(u.id, u.name) for u in units]


def _action_forms(appeal, actions, bound):
    """Every action form of the page, empty but for the version the page shows, or as the user typed it; each
    built when the template first asks for it (a page shows two or three of the fourteen)."""
    version = appeal.version
    empty = {
        "dispatch": lambda: forms.DispatchForm(formdata=None, version=version),
        "sign": lambda: forms.SignForm(formdata=None, version=version),
        "return": lambda: forms.ReturnForm(formdata=None, version=version),
        "assign": lambda: forms.AssignForm(formdata=None, version=version),
        "note": lambda: forms.NoteForm(formdata=None),
        "extend": lambda: forms.ExtensionForm(formdata=None, version=version),
        "supervise": lambda: forms.SuperviseForm(formdata=None, version=version),
        "opinion": lambda: forms.OpinionForm(formdata=None),
        "reply": lambda: forms.ReplyForm(formdata=None, version=version),
        "follow_up": lambda: forms.FollowUpForm(formdata=None, version=version),
        "withdraw": lambda: forms.WithdrawForm(formdata=None, version=version),
        "decide": lambda: forms.ExtensionDecisionForm(formdata=None),
        "merge": lambda: forms.MergeForm(formdata=None, version=version),
    }

    def build(name):
        form = bound.get(name)
        if form is None:
            form = empty[name]()
        elif hasattr(form, "version"):
            form.version.data = version
        if name == "dispatch":
            departments = service.departments()
            form.lead_unit_id.choices = _choices(departments)
            form.co_unit_ids.choices = [(u.id, u.name) for u in departments]
        elif name == "return":
            form.suggested_unit_id.choices = _choices(service.departments(), "（不指定）")
        elif name == "assign" and "appeal.assign" in actions:
            form.assignee_id.choices = _choices(service.staff_of(appeal.lead_unit_id))
        return form
    return LazyForms(build)


def _detail_context(appeal, bound=None, **extra):
    actions = appeal_actions_for(current_user, appeal)
    events, extensions, duplicates = service.case_file(appeal)
    return {
        "appeal": appeal, "events": events, "extensions": extensions,
        "actions": actions, "attachments": files.attachments_of("appeal", appeal.id),
        "calendar": working_calendar(), "today": today(), "forms": _action_forms(appeal, actions, bound or {}),
        "duplicates": duplicates, "revealed": False,
        "phrases": phrases.of_unit(current_user.unit_id) if can(current_user, "phrase.use") else [],
        **extra,
    }


APPEALS = CaseKind(
    model=Appeal, visible=visible_appeals, template="appeals/show.html", endpoint="appeals.show",
    id_arg="appeal_id", changed_event="appeals-changed", stale_message=service.STALE, context=_detail_context,
    gone_endpoint="inbox.index",
)


@bp.get("/<int:appeal_id>")
@login_required
def show(appeal_id):
    """The appeal: facts, content, files, co-handlers, extensions, the actions open to the user, timeline."""
    appeal = APPEALS.load(appeal_id)
    return render("appeals/show.html", block="panel", **_detail_context(appeal))


@bp.get("/<int:appeal_id>/receipt")
@login_required
def receipt(appeal_id):
    """The printable receipt (回执) handed to the enterprise: the lookup address, the counter's telephone and
    the clerk who recorded it."""
    appeal = APPEALS.load(appeal_id)
    return render("appeals/receipt.html", appeal=appeal, recorded_by=service.user(appeal.recorded_by_id))


@bp.get("/<int:appeal_id>/files/<int:attachment_id>")
@login_required
def download(appeal_id, attachment_id):
    """An attachment of an appeal the user may see, after verifying its SHA-256."""
    appeal = APPEALS.load(appeal_id)
    return send_attachment("appeal", appeal.id, attachment_id)


# --------------------------------------------------------------------------- actions


def _dispatch(appeal, form):
    lead = service.department(form.lead_unit_id.data)
    if lead is None:
        raise WorkflowError("请选择有效的主办部门。")
    co = [u for u in map(service.department, form.co_unit_ids.data or []) if u is not None]
    service.dispatch(appeal, current_user, lead_unit=lead, co_units=co, handling_days=form.handling_days.data,
                     comment=form.comment.data, expected_version=form.version.data)


def _assign(appeal, form):
    assignee = service.user(form.assignee_id.data)
    if assignee is None:
        raise WorkflowError("请选择本部门的经办人。")
    service.assign(appeal, current_user, assignee=assignee, expected_version=form.version.data)


#: Endpoint → (URL, form name, form class, permission, operation(appeal, form), message); each becomes
#: POST /appeals/<id>/<URL>, and the one action runner does the rest.
ACTIONS = {
    "dispatch": ("dispatch", "dispatch", forms.DispatchForm, "appeal.dispatch", _dispatch, "已派单。"),
    "sign": ("sign", "sign", forms.SignForm, "appeal.sign",
             lambda a, f: service.sign(a, current_user, expected_version=f.version.data), "已签收。"),
    "return_": ("return", "return", forms.ReturnForm, "appeal.return",
                lambda a, f: service.return_to_dispatch(
                    a, current_user, reason=f.reason.data.strip(),
                    suggested_unit=service.department(f.suggested_unit_id.data), expected_version=f.version.data),
                "已退回调度中心。"),
    "assign": ("assign", "assign", forms.AssignForm, "appeal.assign", _assign, "已指派。"),
    "note": ("note", "note", forms.NoteForm, "appeal.note",
             lambda a, f: service.add_note(a, current_user, text=f.text.data.strip()), "已添加内部备注。"),
    "extend": ("extend", "extend", forms.ExtensionForm, "appeal.extend",
               lambda a, f: service.request_extension(a, current_user, days=f.days.data, reason=f.reason.data.strip(),
                                                      expected_version=f.version.data),
               "延期申请已提交调度中心。"),
    "supervise": ("supervise", "supervise", forms.SuperviseForm, "appeal.supervise",
                  lambda a, f: service.supervise(a, current_user, comment=f.comment.data,
                                                 expected_version=f.version.data), "已督办。"),
    "opinion": ("opinion", "opinion", forms.OpinionForm, "appeal.opinion",
                lambda a, f: service.give_opinion(a, current_user, text=f.text.data.strip()), "协办意见已提交。"),
    "reply": ("reply", "reply", forms.ReplyForm, "appeal.reply",
              lambda a, f: service.reply(a, current_user, outcome=f.outcome.data, text=f.text.data.strip(),
                                         expected_version=f.version.data), "已答复。"),
    "follow_up": ("follow-up", "follow_up", forms.FollowUpForm, "appeal.follow_up",
                  lambda a, f: service.follow_up(a, current_user, satisfaction=f.satisfaction.data,
                                                 comment=f.comment.data, expected_version=f.version.data),
                  "回访已记录。"),
    "withdraw": ("withdraw", "withdraw", forms.WithdrawForm, "appeal.withdraw",
                 lambda a, f: service.withdraw(a, current_user, reason=f.reason.data.strip(),
                                               expected_version=f.version.data), "诉求已撤回。"),
    "merge": ("merge", "merge", forms.MergeForm, "appeal.merge",
              lambda a, f: service.merge(a, current_user, main_receipt=f.main_receipt.data, reason=f.reason.data,
                                         expected_version=f.version.data), "已并案，本诉求随主诉求办理。"),
}


add_action_routes(bp, APPEALS, ACTIONS)


@bp.post("/<int:appeal_id>/extensions/<int:extension_id>")
@login_required
def decide_extension(appeal_id, extension_id):
    """The dispatcher approves or refuses an extension."""
    appeal = APPEALS.load(appeal_id)
    extension = service.extension_of(appeal, extension_id)
    if extension is None:
        abort(404)
    return APPEALS.run(appeal, "decide", forms.ExtensionDecisionForm(), "appeal.decide_extension",
                       lambda f: service.decide_extension(extension, current_user, approve=f.decision.data == "approve",
                                                          comment=f.comment.data),
                       "已处理延期申请。")


#: The forms a canned reply may be inserted into: form name → (form class, permission that shows the form).
PHRASE_TARGETS = {"reply": (forms.ReplyForm, "appeal.reply"), "note": (forms.NoteForm, "appeal.note"),
                  "opinion": (forms.OpinionForm, "appeal.opinion")}


@bp.post("/<int:appeal_id>/phrase")
@login_required
def insert_phrase(appeal_id):
    """插入常用语: the page again with the chosen phrase added to the text typed so far, everything else kept;
    htmx takes the text field only. Nothing is saved (the user still submits the form)."""
    appeal = APPEALS.load(appeal_id)
    require("phrase.use")
    target = request.form.get("into")
    if target not in PHRASE_TARGETS:
        abort(404)
    form_class, permission = PHRASE_TARGETS[target]
    require(permission, appeal)
    form = form_class()
    phrase = phrases.get(current_user.unit_id, request.form.get("phrase", type=int))
    if phrase is None:
        form.text.errors = ["请先选择一条常用语。"]
    else:
        form.text.data = phrases.insert(form.text.data, phrase)
    return render("appeals/show.html", block="panel", **_detail_context(appeal, bound={target: form}, open_form=target))


@bp.post("/<int:appeal_id>/reveal-mobile")
@login_required
def reveal_mobile(appeal_id):
    """Show the contact's full mobile for the 回访 or a call (audited), as on the enterprise page; htmx gets
    the number, a plain form the page."""
    appeal = APPEALS.load(appeal_id)
    require("enterprise.reveal_mobile", appeal.enterprise)
    contact = appeal.contact
    if contact is None or not contact.mobile:
        abort(404)
    record("mobile_revealed", contact, detail=f"{appeal.enterprise.name} · {contact.name}（诉求 {appeal.receipt_no}）")
    db.session.commit()
    if is_fragment_request():
        return render("appeals/show.html", block="contact_mobile", appeal=appeal, revealed=True)
    return render("appeals/show.html", block="panel", **_detail_context(appeal, revealed=True))
