"""Appeals (诉求): intake at any counter, the appeal page with its actions and timeline, receipts, files."""
import secrets

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..forms import appeals as forms
from ..forms.fields import prefix_ids
from ..htmx import render
from ..models import (
    Appeal, AppealCategory, Enterprise, Event, Extension, Salon, Unit, UnitKind, User,
)
from ..models.appeal import Channel
from ..permissions import appeal_actions_for, can, get_visible_or_404, require, visible_appeals, visible_enterprises
from ..services import appeals as service
from ..services import files
from ..services.calendar import today, working_calendar
from ..workflow import WorkflowError
from .cases import commit_once_more_if_stale, resolve_contact, resolve_enterprise, send_attachment

bp = Blueprint("appeals", __name__, url_prefix="/appeals")

#: The channel an intake unit records by default.
DEFAULT_CHANNEL = {
    UnitKind.building_station.value: Channel.building_station.value,
    UnitKind.service_point.value: Channel.service_point.value,
    UnitKind.window.value: Channel.window.value,
}
PAGE_SIZE = 50


def load_appeal(appeal_id):
    """The appeal if the current user may see it, else 404."""
    return get_visible_or_404(visible_appeals(current_user), appeal_id, Appeal)


# --------------------------------------------------------------------------- list


@bp.get("/")
@login_required
def index():
    """The appeals the user may see, newest first, filtered by state, category or receipt number."""
    require("appeal.list")
    query = visible_appeals(current_user)
    state = request.args.get("state") or None
    category_id = request.args.get("category", type=int)
    receipt = (request.args.get("receipt") or "").strip().upper()
    enterprise_id = request.args.get("enterprise", type=int)
    if enterprise_id:
        query = query.where(Appeal.enterprise_id == enterprise_id)
    if state:
        query = query.where(Appeal.state == state)
    if category_id:
        query = query.where(Appeal.category_id == category_id)
    if receipt:
        query = query.where(Appeal.receipt_no == receipt)
    page = max(request.args.get("page", 1, type=int), 1)
    rows = list(db.session.scalars(
        query.order_by(Appeal.created_at.desc(), Appeal.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ))
    has_next = len(rows) > PAGE_SIZE
    from ..workflow import AppealState

    return render(
        "appeals/index.html", block="results", appeals=rows[:PAGE_SIZE], page=page, has_next=has_next,
        states=[(s.value, s.title) for s in AppealState], categories=service.active_categories(),
        filters={"state": state or "", "category": category_id or "", "receipt": receipt, "enterprise": enterprise_id or ""},
        calendar=working_calendar(), today=today(),
    )


# --------------------------------------------------------------------------- intake


def _intake_choices(form, enterprise):
    form.category_id.choices = [(None, "请选择")] + [(c.id, c.name) for c in service.active_categories()]
    form.salon_id.choices = [(None, "（不属于沙龙）")] + [
        (s.id, f"{s.held_on:%Y-%m-%d} {s.theme}")
        for s in db.session.scalars(select(Salon).order_by(Salon.held_on.desc(), Salon.id.desc()).limit(30))
    ]
    contacts = enterprise.contacts if enterprise else []
    form.contact_id.choices = [(None, "新联系人（在下方填写）")] + [
        (c.id, f"{c.name} {'' if not c.mobile else c.mobile[:3] + '****' + c.mobile[-4:]}") for c in contacts
    ]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """The intake form (登记): one form for stations, points, the window and salons."""
    require("appeal.create")
    form = forms.IntakeForm()
    if request.method == "GET":
        form.submission_token.data = secrets.token_urlsafe(24)
        form.channel.data = DEFAULT_CHANNEL.get(current_user.unit.kind, Channel.phone.value)
        if request.args.get("enterprise", type=int):
            form.enterprise_id.data = request.args.get("enterprise", type=int)
        if request.args.get("salon", type=int):
            form.salon_id.data = request.args.get("salon", type=int)
            form.channel.data = Channel.salon.value
    enterprise = None
    if form.enterprise_id.data:
        enterprise = db.session.scalar(visible_enterprises(current_user).where(Enterprise.id == form.enterprise_id.data))
    _intake_choices(form, enterprise)
    pending = files.pending_attachments(current_user, (form.attachment_ids.data or "").split(","), "appeal")
    candidates = []
    if request.method == "POST" and form.submission_token.data:
        existing = db.session.scalar(select(Appeal).where(Appeal.submission_token == form.submission_token.data))
        if existing is not None:
            # The same form sent twice (double click, reload): show the appeal it created.
            return redirect(url_for("appeals.show", appeal_id=existing.id, created=1), code=303)
    if request.method == "POST":
        valid = form.validate_on_submit()
        # Files are stored even when the rest of the form is wrong, so nobody uploads twice.
        for upload in form.files.data or []:
            if upload and upload.filename:
                try:
                    pending.append(files.store_upload(upload, current_user, owner_type="appeal"))
                except files.FileRefused as exc:
                    form.files.errors.append(str(exc))
        if pending:
            # Committed before anything else in the form is decided: they survive a failed validation.
            db.session.commit()
        if valid:
            enterprise, candidates = resolve_enterprise(form, audit_detail="诉求登记时登记")
            category = db.session.get(AppealCategory, form.category_id.data) if form.category_id.data else None
            if category is None or not category.active:
                form.category_id.errors.append("请选择有效的诉求类别。")
            if form.channel.data not in {c.value for c in Channel}:
                form.channel.errors.append("请选择有效的受理渠道。")
            salon = db.session.get(Salon, form.salon_id.data) if form.salon_id.data else None
            if form.channel.data == Channel.salon.value and salon is None:
                form.salon_id.errors.append("沙龙渠道须选择所属沙龙。")
            contact = resolve_contact(form, enterprise) if enterprise else None
            if enterprise and not _has_errors(form):
                appeal, _ = service.record(
                    current_user, enterprise=enterprise, category=category, channel=form.channel.data,
                    content=form.content.data.strip(), contact=contact, salon=salon,
                    submission_token=form.submission_token.data, attachments=pending,
                )
                db.session.commit()
                flash(f"诉求已登记，回执号 {appeal.receipt_no}，已{appeal.state_title}。", "success")
                return redirect(url_for("appeals.show", appeal_id=appeal.id, created=1), code=303)
            if enterprise:
                form.enterprise_id.data = enterprise.id
                _intake_choices(form, enterprise)
        # Keep the files already uploaded: saved, not yet attached, and offered again with the form.
        pending_ids = [a.id for a in pending]
        db.session.rollback()
        pending = files.pending_attachments(current_user, pending_ids, "appeal")
    form.attachment_ids.data = ",".join(str(a.id) for a in pending)
    status = 422 if request.method == "POST" else 200
    return render("appeals/new.html", form=form, enterprise=enterprise, candidates=candidates,
                  pending=pending, status=status)


def _has_errors(form):
    return any(field.errors for field in form)


@bp.get("/contact-options")
@login_required
def contact_options():
    """The contact select for an enterprise picked in the intake form (htmx fragment)."""
    require("appeal.create")
    enterprise_id = request.args.get("enterprise_id", type=int)
    enterprise = None
    if enterprise_id:
        enterprise = db.session.scalar(visible_enterprises(current_user).where(Enterprise.id == enterprise_id))
    form = forms.IntakeForm(formdata=None)
    _intake_choices(form, enterprise)
    return render("appeals/new.html", block="contact_select", form=form, enterprise=enterprise)


@bp.route("/salons/new", methods=["GET", "POST"])
@login_required
def new_salon():
    """A minimal salon record (theme, date, venue) so appeals can be tagged with it."""
    require("appeal.create")
    form = forms.SalonQuickForm()
    if form.validate_on_submit():
        salon = Salon(theme=form.theme.data.strip(), held_on=form.held_on.data, venue=form.venue.data,
                      created_by_id=current_user.id)
        db.session.add(salon)
        db.session.commit()
        flash(f"沙龙“{salon.theme}”已登记。", "success")
        return redirect(url_for("appeals.new", salon=salon.id), code=303)
    return render("appeals/salon_new.html", form=form, status=422 if request.method == "POST" else 200)


# --------------------------------------------------------------------------- the appeal page


def _detail_context(appeal, **extra):
    events = list(db.session.scalars(select(Event).where(Event.appeal_id == appeal.id).order_by(Event.id)))
    extensions = list(db.session.scalars(select(Extension).where(Extension.appeal_id == appeal.id).order_by(Extension.id)))
    actions = appeal_actions_for(current_user, appeal)
    context = {
        "appeal": appeal, "events": events, "extensions": extensions, "actions": actions,
        "attachments": files.attachments_of("appeal", appeal.id),
        "calendar": working_calendar(), "today": today(),
    }
    departments = service.departments()
    version = appeal.version
    context["forms"] = {
        "dispatch": _prefill(forms.DispatchForm(formdata=None, version=version), lead_unit_id=departments),
        "sign": forms.SignForm(formdata=None, version=version),
        "return": _prefill(forms.ReturnForm(formdata=None, version=version), suggested_unit_id=departments, blank="（不指定）"),
        "assign": forms.AssignForm(formdata=None, version=version),
        "note": forms.NoteForm(formdata=None),
        "extend": forms.ExtensionForm(formdata=None, version=version),
        "supervise": forms.SuperviseForm(formdata=None, version=version),
        "opinion": forms.OpinionForm(formdata=None),
        "reply": forms.ReplyForm(formdata=None, version=version),
        "follow_up": forms.FollowUpForm(formdata=None, version=version),
        "withdraw": forms.WithdrawForm(formdata=None, version=version),
        "decide": forms.ExtensionDecisionForm(formdata=None),
    }
    context["forms"]["dispatch"].co_unit_ids.choices = [(u.id, u.name) for u in departments]
    if "appeal.assign" in actions:
        staff = db.session.scalars(
            select(User).where(User.unit_id == appeal.lead_unit_id, User.active.is_(True)).order_by(User.name)
        )
        context["forms"]["assign"].assignee_id.choices = [(None, "请选择")] + [(u.id, u.name) for u in staff]
    for name, form in extra.pop("bound", {}).items():
        form.version.data = version if hasattr(form, "version") else None
        for key in ("lead_unit_id", "suggested_unit_id", "assignee_id", "co_unit_ids"):
            if hasattr(form, key):
                getattr(form, key).choices = getattr(context["forms"][name], key).choices
        context["forms"][name] = form
    prefix_ids(context["forms"])
    context.update(extra)
    return context


def _prefill(form, blank="请选择", **selects):
    for field, units in selects.items():
        getattr(form, field).choices = [(None, blank)] + [(u.id, u.name) for u in units]
    return form


@bp.get("/<int:appeal_id>")
@login_required
def show(appeal_id):
    """The appeal: facts, content, files, co-handlers, extensions, the actions open to the user, timeline."""
    appeal = load_appeal(appeal_id)
    return render("appeals/show.html", block="panel", **_detail_context(appeal))


@bp.get("/<int:appeal_id>/receipt")
@login_required
def receipt(appeal_id):
    """The printable receipt (回执) handed to the enterprise."""
    appeal = load_appeal(appeal_id)
    return render("appeals/receipt.html", appeal=appeal)


@bp.get("/<int:appeal_id>/files/<int:attachment_id>")
@login_required
def download(appeal_id, attachment_id):
    """An attachment of an appeal the user may see, after verifying its SHA-256."""
    appeal = load_appeal(appeal_id)
    return send_attachment("appeal", appeal.id, attachment_id)


def _act(appeal, form_name, form, permission, operation, message):
    """Run one action: check permission, validate, call the service, commit once; re-render on error."""
    if not can(current_user, permission, appeal):
        abort(403)
    status, error = 422, None
    if form.validate_on_submit():
        try:
            commit_once_more_if_stale(operation, form, service.STALE)
        except WorkflowError as exc:
            db.session.rollback()
            status, error = 409, str(exc)
        else:
            flash(message, "success")
            if request.headers.get("HX-Request") == "true":
                db.session.expire_all()
                appeal = db.session.get(Appeal, appeal.id)
                response = render("appeals/show.html", block="panel", **_detail_context(appeal, flash_now=message))
                response.headers["HX-Trigger"] = "appeals-changed"
                return response
            return redirect(url_for("appeals.show", appeal_id=appeal.id), code=303)
        db.session.expire_all()
        appeal = db.session.get(Appeal, appeal.id)
        if appeal is None or not can(current_user, "appeal.list"):
            abort(404)
    return render("appeals/show.html", block="panel", status=status,
                  **_detail_context(appeal, error=error, open_form=form_name, bound={form_name: form}))


def _unit_or_none(unit_id, department_only=True):
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit is not None and department_only and unit.kind != UnitKind.department.value:
        return None
    return unit


@bp.post("/<int:appeal_id>/dispatch")
@login_required
def dispatch(appeal_id):
    """派单 (dispatcher): a lead department, co-handlers, a handling limit."""
    appeal = load_appeal(appeal_id)

    def run(form):
        lead = _unit_or_none(form.lead_unit_id.data)
        if lead is None:
            raise WorkflowError("请选择有效的主办部门。")
        co = [u for u in (_unit_or_none(i) for i in form.co_unit_ids.data or []) if u is not None]
        service.dispatch(appeal, current_user, lead_unit=lead, co_units=co, handling_days=form.handling_days.data,
                         comment=form.comment.data, expected_version=form.version.data)

    return _act(appeal, "dispatch", forms.DispatchForm(), "appeal.dispatch", run, "已派单。")


@bp.post("/<int:appeal_id>/sign")
@login_required
def sign(appeal_id):
    """签收 in the lead department."""
    appeal = load_appeal(appeal_id)
    return _act(appeal, "sign", forms.SignForm(), "appeal.sign",
                lambda f: service.sign(appeal, current_user, expected_version=f.version.data), "已签收。")


@bp.post("/<int:appeal_id>/return")
@login_required
def return_(appeal_id):
    """退单: not this department's; back to the dispatcher with the reason."""
    appeal = load_appeal(appeal_id)

    def run(form):
        service.return_to_dispatch(appeal, current_user, reason=form.reason.data.strip(),
                                   suggested_unit=_unit_or_none(form.suggested_unit_id.data),
                                   expected_version=form.version.data)

    return _act(appeal, "return", forms.ReturnForm(), "appeal.return", run, "已退回调度中心。")


@bp.post("/<int:appeal_id>/assign")
@login_required
def assign(appeal_id):
    """指派 (department lead) to a handler of the department."""
    appeal = load_appeal(appeal_id)

    def run(form):
        assignee = db.session.get(User, form.assignee_id.data)
        if assignee is None:
            raise WorkflowError("请选择本部门的经办人。")
        service.assign(appeal, current_user, assignee=assignee, expected_version=form.version.data)

    return _act(appeal, "assign", forms.AssignForm(), "appeal.assign", run, "已指派。")


@bp.post("/<int:appeal_id>/note")
@login_required
def note(appeal_id):
    """内部备注: staff only."""
    appeal = load_appeal(appeal_id)
    return _act(appeal, "note", forms.NoteForm(), "appeal.note",
                lambda f: service.add_note(appeal, current_user, text=f.text.data.strip()), "已添加内部备注。")


@bp.post("/<int:appeal_id>/extend")
@login_required
def extend(appeal_id):
    """申请延期: reason and working days, for the dispatcher to decide."""
    appeal = load_appeal(appeal_id)
    return _act(appeal, "extend", forms.ExtensionForm(), "appeal.extend",
                lambda f: service.request_extension(appeal, current_user, days=f.days.data, reason=f.reason.data.strip(),
                                                    expected_version=f.version.data),
                "延期申请已提交调度中心。")


@bp.post("/<int:appeal_id>/extensions/<int:extension_id>")
@login_required
def decide_extension(appeal_id, extension_id):
    """The dispatcher approves or refuses an extension."""
    appeal = load_appeal(appeal_id)
    extension = db.session.scalar(select(Extension).where(Extension.id == extension_id, Extension.appeal_id == appeal.id))
    if extension is None:
        abort(404)
    return _act(appeal, "decide", forms.ExtensionDecisionForm(), "appeal.decide_extension",
                lambda f: service.decide_extension(extension, current_user, approve=f.decision.data == "approve",
                                                   comment=f.comment.data),
                "已处理延期申请。")


@bp.post("/<int:appeal_id>/supervise")
@login_required
def supervise(appeal_id):
    """督办: flag the case; the department's inbox lists it first."""
    appeal = load_appeal(appeal_id)
    return _act(appeal, "supervise", forms.SuperviseForm(), "appeal.supervise",
                lambda f: service.supervise(appeal, current_user, comment=f.comment.data, expected_version=f.version.data),
                "已督办。")


@bp.post("/<int:appeal_id>/opinion")
@login_required
def opinion(appeal_id):
    """协办意见 from a co-handling department."""
    appeal = load_appeal(appeal_id)
    return _act(appeal, "opinion", forms.OpinionForm(), "appeal.opinion",
                lambda f: service.give_opinion(appeal, current_user, text=f.text.data.strip()), "协办意见已提交。")


@bp.post("/<int:appeal_id>/reply")
@login_required
def reply(appeal_id):
    """答复: outcome and the text the enterprise sees."""
    appeal = load_appeal(appeal_id)
    return _act(appeal, "reply", forms.ReplyForm(), "appeal.reply",
                lambda f: service.reply(appeal, current_user, outcome=f.outcome.data, text=f.text.data.strip(),
                                        expected_version=f.version.data),
                "已答复。")


@bp.post("/<int:appeal_id>/follow-up")
@login_required
def follow_up(appeal_id):
    """回访: the recording unit or the dispatcher records the enterprise's satisfaction."""
    appeal = load_appeal(appeal_id)
    return _act(appeal, "follow_up", forms.FollowUpForm(), "appeal.follow_up",
                lambda f: service.follow_up(appeal, current_user, satisfaction=f.satisfaction.data,
                                            comment=f.comment.data, expected_version=f.version.data),
                "回访已记录。")


@bp.post("/<int:appeal_id>/withdraw")
@login_required
def withdraw(appeal_id):
    """撤回 at the enterprise's request."""
    appeal = load_appeal(appeal_id)
    return _act(appeal, "withdraw", forms.WithdrawForm(), "appeal.withdraw",
                lambda f: service.withdraw(appeal, current_user, reason=f.reason.data.strip(),
                                           expected_version=f.version.data),
                "诉求已撤回。")
