"""Policy applications (政策兑现申报): intake and drafts, the application page with its actions and timeline,
the department's review list, the paying unit's disbursement list, printable notices, files."""
import secrets

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload, load_only, raiseload
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..forms import applications as forms
from ..forms.fields import prefix_ids
from ..htmx import is_fragment_request, render
from ..models import Application, Enterprise, ItemCheck, Policy, User
from ..permissions import application_actions_for, can, get_visible_or_404, require, visible_applications
from ..permissions import visible_enterprises
from ..services import applications as service
from ..services import files
from ..services.calendar import today, working_calendar
from ..workflow import ApplicationState, WorkflowError
from .cases import commit_once_more_if_stale, resolve_contact, resolve_enterprise, send_attachment

bp = Blueprint("applications", __name__, url_prefix="/applications")

PAGE_SIZE = 50
#: What a list row shows, in one query per page; everything else stays unloaded (and raises if a template asks).
LIST_OPTIONS = (
    joinedload(Application.enterprise).options(load_only(Enterprise.id, Enterprise.name), raiseload("*")),
    joinedload(Application.policy).options(load_only(Policy.id, Policy.title), raiseload("*")),
    joinedload(Application.department).options(raiseload("*")),
    raiseload(Application.items), raiseload(Application.contact), raiseload(Application.intake_unit),
)


@bp.context_processor
def _helpers():
    return {
        "yuan": service.yuan, "amount_in_words": service.amount_in_words, "action_title": service.action_title,
        "due_text": service.due_text, "is_overdue": service.is_overdue,
    }


def load_application(application_id):
    """The application if the current user may see it, else 404."""
    return get_visible_or_404(visible_applications(current_user), application_id, Application)


def _page():
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _fetch_page(query, order, page):
    """One page of 50 and whether there is another (fetch 51, no COUNT)."""
    rows = list(db.session.scalars(
        query.options(*LIST_OPTIONS).order_by(*order).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def _policies():
    return list(db.session.scalars(select(Policy).options(lazyload(Policy.items)).order_by(Policy.code)))


# --------------------------------------------------------------------------- lists


@bp.get("/")
@login_required
def index():
    """The applications the user may see, newest first, filtered by state, policy or receipt number."""
    require("application.list")
    query = visible_applications(current_user)
    state = request.args.get("state") or ""
    policy_id = request.args.get("policy", type=int)
    receipt = (request.args.get("receipt") or "").strip().upper()
    if state:
        query = query.where(Application.state == state)
    if policy_id:
        query = query.where(Application.policy_id == policy_id)
    if receipt:
        query = query.where(Application.receipt_no == receipt)
    page = _page()
    rows, has_next = _fetch_page(query, (Application.created_at.desc(), Application.id.desc()), page)
    return render(
        "applications/index.html", block="results", applications=rows, page=page, has_next=has_next,
        states=[(s.value, s.title) for s in ApplicationState], policies=_policies(),
        filters={"state": state, "policy": policy_id or "", "receipt": receipt},
        calendar=working_calendar(), today=today(),
    )


#: States a department filters its review list by; the first is the default.
REVIEW_STATES = ["accepted", "awaiting_supplement", "approved", "rejected", "result_issued", "disbursed"]


@bp.get("/review")
@login_required
def review():
    """实质审查 list of the department: its policies' applications, by review deadline, with overdue flags."""
    require("application.review")
    state = request.args.get("state") if request.args.get("state") in REVIEW_STATES else REVIEW_STATES[0]
    policy_id = request.args.get("policy", type=int)
    receipt = (request.args.get("receipt") or "").strip().upper()
    overdue = request.args.get("overdue") == "1"
    query = visible_applications(current_user).where(
        Application.department_id == current_user.unit_id, Application.state == state)
    if policy_id:
        query = query.where(Application.policy_id == policy_id)
    if receipt:
        query = query.where(Application.receipt_no == receipt)
    if overdue:
        query = query.where(Application.review_due_on < today())
    page = _page()
    rows, has_next = _fetch_page(query, (Application.review_due_on.asc(), Application.id.asc()), page)
    policies = [p for p in _policies() if p.department_id == current_user.unit_id]
    return render(
        "applications/review.html", block="results", applications=rows, page=page, has_next=has_next,
        states=[(s, ApplicationState(s).title) for s in REVIEW_STATES], policies=policies,
        filters={"state": state, "policy": policy_id or "", "receipt": receipt, "overdue": "1" if overdue else ""},
        calendar=working_calendar(), today=today(),
    )


@bp.get("/disbursements")
@login_required
def disbursements():
    """拨付 list of the paying unit: approved results awaiting disbursement (or, with done=1, those paid)."""
    require("application.disburse")
    done = request.args.get("done") == "1"
    query = visible_applications(current_user).where(Application.outcome == "approved")
    if done:
        query = query.where(Application.state == ApplicationState.disbursed.value)
        order = (Application.disbursed_on.desc(), Application.id.desc())
    else:
        query = query.where(Application.state == ApplicationState.result_issued.value)
        order = (Application.result_issued_at.asc(), Application.id.asc())
    page = _page()
    rows, has_next = _fetch_page(query, order, page)
    return render("applications/disbursements.html", block="results", applications=rows, page=page,
                  has_next=has_next, filters={"done": "1" if done else ""}, calendar=working_calendar(), today=today())


# --------------------------------------------------------------------------- intake


def _contact_choices(form, enterprise):
    contacts = enterprise.contacts if enterprise else []
    form.contact_id.choices = [(None, "新联系人（在下方填写）")] + [
        (c.id, f"{c.name} {'' if not c.mobile else c.mobile[:3] + '****' + c.mobile[-4:]}") for c in contacts
    ]


def _policy_select(form):
    choices = service.policy_choices()
    form.policy_id.choices = [(None, "请选择")] + [
        (p.id, f"{p.code} {p.title}（{p.level_title}，最高{service.yuan(p.max_amount)}）" + (f"：{reason}" if reason else ""),
         {"disabled": True} if reason and p.id != form.policy_id.data else {})
        for p, reason in choices
    ]


def _checklist(policy, application, pending, paper, item_errors, absent=()):
    """Per checklist item: the files already attached, the ones uploaded with this form, paper, the error."""
    if policy is None:
        return []
    attached = service.attachments_by_item(application.id) if application is not None and application.policy_id == policy.id else {}
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


def _store_uploads(policy, owner_id=None):
    """Store the uploaded files of each checklist item (type checked against the item's formats, by content).
    Returns (attachments, {item id: message})."""
    stored, errors = [], {}
    for item in (policy.items if policy else []):
        for upload in request.files.getlist(f"file-{item.id}"):
            if not (upload and upload.filename):
                continue
            try:
                stored.append(files.store_upload(upload, current_user, owner_type="application",
                                                 item_key=str(item.id), kinds=item.format_list))
            except files.FileRefused as exc:
                errors[item.id] = f"“{item.name}”：{exc}"
    return stored, errors


def _marked(policy, name):
    """The checklist items whose `name`-<item id> checkbox is ticked (paper received, absent)."""
    return {item.id for item in (policy.items if policy else []) if request.form.get(f"{name}-{item.id}")}


def _materials(policy, pending, paper):
    return {item.id: ([a for a in pending if a.item_key == str(item.id)], item.id in paper) for item in policy.items}


def _has_errors(form):
    return any(field.errors for field in form)


def _check_policy_and_amount(form, policy):
    """The policy must be open today and the declared amount within its maximum (the service checks again)."""
    if policy is None:
        if not form.policy_id.errors:
            form.policy_id.errors.append("请选择有效的申报政策。")
        return
    reason = service.closed_reason(policy)
    if reason:
        form.policy_id.errors.append(reason)
    if getattr(form.declared_amount, "amount", None) is not None:
        try:
            service.check_amount_limits(form.declared_amount.amount, policy, field="declared_amount")
        except service.InputError as exc:
            form.declared_amount.errors.append(str(exc))


def _intake(application=None):
    """The intake form for a new application or a draft: resolve, store files, save or submit, else re-render."""
    form = forms.IntakeForm()
    if request.method == "GET":
        form.submission_token.data = secrets.token_urlsafe(24)
        if application is not None:
            form.version.data = application.version
            form.enterprise_id.data = application.enterprise_id
            form.policy_id.data = application.policy_id
            form.declared_amount.data = f"{application.declared_amount:.2f}"
            form.contact_id.data = application.contact_id
        else:
            form.enterprise_id.data = request.args.get("enterprise", type=int)
            form.policy_id.data = request.args.get("policy", type=int)
    elif application is not None and application.state != ApplicationState.draft.value:
        flash(f"该申报已提交（回执号 {application.receipt_no}）。", "info")
        return redirect(url_for("applications.show", application_id=application.id), code=303)
    elif application is None and form.submission_token.data:
        existing = db.session.scalar(select(Application).where(Application.submission_token == form.submission_token.data))
        if existing is not None:
            # The same form sent twice (double click, reload): show what the first one made.
            return redirect(url_for("applications.show" if existing.receipt_no else "applications.edit",
                                    application_id=existing.id), code=303)
    enterprise = None
    if form.enterprise_id.data:
        enterprise = db.session.scalar(visible_enterprises(current_user).where(Enterprise.id == form.enterprise_id.data))
    policy = db.session.get(Policy, form.policy_id.data) if form.policy_id.data else None
    pending = files.pending_attachments(current_user, (form.attachment_ids.data or "").split(","), "application")
    paper, absent, item_errors, candidates, error, status = set(), set(), {}, [], None, 200
    if request.method == "POST":
        intent = request.form.get("intent", "draft")
        stored, item_errors = _store_uploads(policy)
        pending += stored
        paper, absent = _marked(policy, "paper"), _marked(policy, "absent")
        if intent != "refresh":
            status = 422
            form.validate()
            enterprise, candidates = resolve_enterprise(form, audit_detail="政策申报登记时登记")
            _check_policy_and_amount(form, policy)
        # Uploaded files and a newly registered enterprise are kept, whatever happens to the rest.
        db.session.commit()
        contact = resolve_contact(form, enterprise) if intent != "refresh" and enterprise is not None else None
        if intent != "refresh" and enterprise is not None and not _has_errors(form) and not item_errors:
            try:
                saved, _ = service.save(
                    current_user, application=application, enterprise=enterprise, policy=policy,
                    declared_amount=form.declared_amount.amount, contact=contact,
                    materials=_materials(policy, pending, paper), absent=absent, submit=intent == "submit",
                    submission_token=form.submission_token.data, expected_version=form.version.data,
                )
                db.session.commit()
            except service.InputError as exc:
                db.session.rollback()
                item_errors = exc.item_errors
                if exc.field:
                    form[exc.field].errors.append(str(exc))
                else:
                    error = str(exc)
            except (WorkflowError, StaleDataError) as exc:
                db.session.rollback()
                status, error = 409, str(exc) if isinstance(exc, WorkflowError) else service.STALE
            else:
                if saved.receipt_no:
                    flash(f"申报已提交，回执号 {saved.receipt_no}，等待窗口形式审查。", "success")
                    return redirect(url_for("applications.show", application_id=saved.id), code=303)
                flash("草稿已保存，可随时继续填写。", "success")
                return redirect(url_for("applications.edit", application_id=saved.id), code=303)
        else:
            db.session.rollback()
        pending = files.pending_attachments(current_user, [a.id for a in pending], "application")
        if application is not None:
            application = db.session.get(Application, application.id)
            form.version.data = application.version
        if enterprise is not None:
            enterprise = db.session.get(Enterprise, enterprise.id)
            form.enterprise_id.data = enterprise.id if enterprise else None
        policy = db.session.get(Policy, policy.id) if policy is not None else None
    form.attachment_ids.data = ",".join(str(a.id) for a in pending)
    _contact_choices(form, enterprise)
    _policy_select(form)
    return render(
        "applications/new.html", form=form, application=application, enterprise=enterprise,
        candidates=candidates, policy=policy, closed_reason=service.closed_reason(policy) if policy else None,
        checklist=_checklist(policy, application, pending, paper, item_errors, absent), error=error, status=status,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """收件: one form at the window, the stations and the points; save a draft or submit."""
    require("application.create")
    return _intake()


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@login_required
def edit(application_id):
    """Resume a draft (草稿) of the intake unit; a submitted application redirects to its page."""
    application = load_application(application_id)
    require("application.create", application)
    if request.method == "GET" and application.state != ApplicationState.draft.value:
        return redirect(url_for("applications.show", application_id=application.id))
    return _intake(application)


@bp.get("/checklist")
@login_required
def checklist():
    """The checklist part of the intake form for the chosen policy (htmx fragment of the form)."""
    require("application.create")
    form = forms.IntakeForm(formdata=None)
    policy_id = request.args.get("policy_id", type=int)
    policy = db.session.get(Policy, policy_id) if policy_id else None
    return render("applications/new.html", block="checklist", form=form, policy=policy, application=None,
                  closed_reason=service.closed_reason(policy) if policy else None,
                  checklist=_checklist(policy, None, [], set(), {}))


@bp.get("/contact-options")
@login_required
def contact_options():
    """The contact select for the enterprise picked in the intake form (htmx fragment)."""
    require("application.create")
    enterprise_id = request.args.get("enterprise_id", type=int)
    enterprise = None
    if enterprise_id:
        enterprise = db.session.scalar(visible_enterprises(current_user).where(Enterprise.id == enterprise_id))
    form = forms.IntakeForm(formdata=None)
    _contact_choices(form, enterprise)
    return render("applications/new.html", block="contact_select", form=form, enterprise=enterprise)


# --------------------------------------------------------------------------- the application page


def _marks_from_request(application):
    return {
        row.item_id: (request.form.get(f"mark-{row.item_id}"), (request.form.get(f"reason-{row.item_id}") or "").strip()[:300])
        for row in application.items
    }


def _check_rows(application, attached, marks=None):
    """Per checklist item of the window check: files, paper, the mark to show, whether it may still be flagged."""
    rows = []
    for row in application.items:
        has_material = bool(attached.get(row.item_id) or row.paper_received)
        default = row.check_status or (ItemCheck.ok.value if has_material or not row.item.required else ItemCheck.missing.value)
        mark, reason = (marks or {}).get(row.item_id) or (default, row.check_reason or "")
        rows.append({"row": row, "item": row.item, "files": attached.get(row.item_id, []), "mark": mark or default,
                     "reason": reason, "unchanged": row.check_status is not None})
    return rows


#: The action form shown open on the page, the first whose action the user may take.
DEFAULT_FORMS = [("check", "check"), ("materials", "resubmit"), ("approve", "review"), ("disburse", "disburse")]


def _detail_context(application, **extra):
    version = application.version
    attached = service.attachments_by_item(application.id)
    notices = service.notices_of(application)
    context = {
        "application": application, "events": service.events_of(application),
        "actions": application_actions_for(current_user, application), "notices": notices,
        "notice_items": service.notice_items, "attached": attached,
        "check_rows": _check_rows(application, attached, extra.pop("marks", None)),
        "notice_kinds": [(k, t) for k, t in service.NOTICE_TITLES.items()
                         if service.notice_available(application, k, notices)],
        "complete": service.is_complete(application), "item_errors": extra.pop("item_errors", {}),
        "pending": extra.pop("pending", []), "calendar": working_calendar(), "today": today(),
        "item_checks": ItemCheck.choices(), "open_form": None,
    }
    actions = context["actions"]
    context["default_form"] = next((name for name, action in DEFAULT_FORMS if action in actions), None)
    context["forms"] = {
        "check": forms.CheckForm(formdata=None, version=version),
        "materials": forms.MaterialsForm(formdata=None, version=version),
        "resubmit": forms.ResubmitForm(formdata=None, version=version),
        "approve": forms.ApproveForm(formdata=None, version=version, amount=f"{application.declared_amount:.2f}"),
        "reject": forms.RejectForm(formdata=None, version=version),
        "back": forms.BackForm(formdata=None, version=version),
        "issue_result": forms.IssueResultForm(formdata=None, version=version),
        "disburse": forms.DisburseForm(formdata=None, version=version, disbursed_on=today(),
                                       amount=f"{application.approved_amount:.2f}" if application.approved_amount else ""),
    }
    for name, form in extra.pop("bound", {}).items():
        form.version.data = version
        context["forms"][name] = form
    prefix_ids(context["forms"])
    context["forms"]["back"].item_ids.choices = [(row.item_id, row.item.name) for row in application.items]
    context["forms"]["materials"].attachment_ids.data = ",".join(str(a.id) for a in context["pending"])
    context.update(extra)
    return context


@bp.get("/<int:application_id>")
@login_required
def show(application_id):
    """The application: facts, checklist and files, the actions open to the user, notices, timeline."""
    application = load_application(application_id)
    return render("applications/show.html", block="panel", **_detail_context(application))


@bp.get("/<int:application_id>/files/<int:attachment_id>")
@login_required
def download(application_id, attachment_id):
    """A file of an application the user may see, after verifying its SHA-256."""
    application = load_application(application_id)
    return send_attachment("application", application.id, attachment_id)


@bp.get("/<int:application_id>/notice/<kind>")
@login_required
def notice(application_id, kind):
    """A printable notice (受理通知书, 一次性告知书, 不予受理通知书, 审核结果通知书); 404 where none exists."""
    application = load_application(application_id)
    notices = service.notices_of(application)
    if kind not in service.NOTICE_TITLES or not service.notice_available(application, kind, notices):
        abort(404)
    supplement, issuer, event = None, None, None
    if kind == "supplement":
        wanted = request.args.get("notice", type=int)
        supplement = next((n for n in notices if n.id == wanted), None) if wanted else notices[-1]
        if supplement is None:
            abort(404)
        issuer = db.session.get(User, supplement.issued_by_id).unit
    else:
        event = service.last_event(application, {"acceptance": "accept", "refusal": "refuse", "result": "issue_result"}[kind])
        issuer = event.actor_unit if event is not None and event.actor_unit is not None else application.intake_unit
    return render("applications/notice.html", application=application, kind=kind, title=service.NOTICE_TITLES[kind],
                  supplement=supplement, items=service.notice_items(supplement) if supplement else [], issuer=issuer,
                  item_checks=dict(ItemCheck.choices()), event=event,
                  issued_at=supplement.issued_at if supplement else (event.at if event else None))


# --------------------------------------------------------------------------- actions


def _act(application, form_name, form, permission, operation, message, **extra):
    """Run one action: check permission, validate, call the service, commit once; PRG, or the panel for htmx."""
    if not can(current_user, permission, application):
        abort(403)
    status, error, item_errors = 422, None, {}
    if form.validate_on_submit():
        try:
            commit_once_more_if_stale(operation, form, service.STALE)
        except WorkflowError as exc:
            db.session.rollback()
            status, error = 409, str(exc)
        except service.InputError as exc:
            db.session.rollback()
            item_errors = exc.item_errors
            if exc.field and exc.field in form:
                form[exc.field].errors.append(str(exc))
            else:
                error = str(exc)
        else:
            if not is_fragment_request():
                flash(message, "success")
                return redirect(url_for("applications.show", application_id=application.id), code=303)
            db.session.expire_all()
            application = db.session.get(Application, application.id)
            response = render("applications/show.html", block="panel", **_detail_context(application, flash_now=message))
            response.headers["HX-Trigger"] = "applications-changed"
            return response
    return _panel(application, status, error=error, open_form=form_name, bound={form_name: form},
                  item_errors={**extra.pop("item_errors", {}), **item_errors}, **extra)


def _panel(application, status, **extra):
    """Re-render the application page (or its panel for htmx) after a refused action, with what was typed."""
    db.session.expire_all()
    application = db.session.scalar(visible_applications(current_user).where(Application.id == application.id))
    if application is None:
        abort(404)
    return render("applications/show.html", block="panel", status=status, **_detail_context(application, **extra))


@bp.post("/<int:application_id>/check")
@login_required
def check(application_id):
    """形式审查 at the window: mark each item, then accept, issue the one-time supplement notice, or refuse."""
    application = load_application(application_id)
    marks = _marks_from_request(application)
    decision = request.form.get("decision", "")

    def run(form):
        service.check(application, current_user, decision=decision, marks=marks, reason=form.reason.data,
                      expected_version=form.version.data)

    message = {"accept": "已受理，已转部门审查。", "supplement": "已出具一次性告知书，请打印交企业。",
               "refuse": "已不予受理。"}.get(decision, "已处理。")
    return _act(application, "check", forms.CheckForm(), "application.check", run, message, marks=marks)


@bp.post("/<int:application_id>/materials")
@login_required
def materials(application_id):
    """补充材料: the window adds files or paper marks per item (files are never deleted)."""
    application = load_application(application_id)
    if not can(current_user, "application.check", application):
        abort(403)
    form = forms.MaterialsForm()
    pending = files.pending_attachments(current_user, (form.attachment_ids.data or "").split(","), "application")
    stored, item_errors = _store_uploads(application.policy)
    pending += stored
    paper = _marked(application.policy, "paper")
    db.session.commit()
    pending = files.pending_attachments(current_user, [a.id for a in pending], "application")
    if item_errors:
        return _panel(application, 422, error="有文件未通过检查，请按提示重新选择。", open_form="materials",
                      bound={"materials": form}, item_errors=item_errors, pending=pending)

    def run(f):
        service.add_materials(application, current_user, materials=_materials(application.policy, pending, paper),
                              expected_version=f.version.data)

    return _act(application, "materials", form, "application.check", run, "材料已补充。", pending=pending)


@bp.post("/<int:application_id>/resubmit")
@login_required
def resubmit(application_id):
    """补正后提交: the supplement is complete; back to the window check."""
    application = load_application(application_id)
    return _act(application, "resubmit", forms.ResubmitForm(), "application.check",
                lambda f: service.resubmit(application, current_user, expected_version=f.version.data),
                "补正材料已收齐，请进行形式审查。")


@bp.post("/<int:application_id>/approve")
@login_required
def approve(application_id):
    """审核通过 with the approved amount (department)."""
    application = load_application(application_id)
    return _act(application, "approve", forms.ApproveForm(), "application.review",
                lambda f: service.approve(application, current_user, amount=f.amount.amount,
                                          comment=(f.comment.data or "").strip(), expected_version=f.version.data),
                "已审核通过。")


@bp.post("/<int:application_id>/reject")
@login_required
def reject(application_id):
    """审核不通过 with the reason (department)."""
    application = load_application(application_id)
    return _act(application, "reject", forms.RejectForm(), "application.review",
                lambda f: service.reject(application, current_user, reason=f.reason.data.strip(),
                                         expected_version=f.version.data),
                "已审核不通过。")


@bp.post("/<int:application_id>/back")
@login_required
def back(application_id):
    """退回补正 (department): the items and what is wrong with them, as a department notice."""
    application = load_application(application_id)
    form = forms.BackForm()
    form.item_ids.choices = [(row.item_id, row.item.name) for row in application.items]
    return _act(application, "back", form, "application.review",
                lambda f: service.back_to_supplement(application, current_user, item_ids=f.item_ids.data,
                                                     reason=f.reason.data.strip(), expected_version=f.version.data),
                "已退回补正，告知书已生成。")


@bp.post("/<int:application_id>/issue-result")
@login_required
def issue_result(application_id):
    """出件: the window hands the result notice to the enterprise."""
    application = load_application(application_id)
    return _act(application, "issue_result", forms.IssueResultForm(), "application.check",
                lambda f: service.issue_result(application, current_user, expected_version=f.version.data),
                "已出件，请打印审核结果通知书。")


@bp.post("/<int:application_id>/disburse")
@login_required
def disburse(application_id):
    """拨付 by the paying unit: amount and date."""
    application = load_application(application_id)
    return _act(application, "disburse", forms.DisburseForm(), "application.disburse",
                lambda f: service.disburse(application, current_user, amount=f.amount.amount, on=f.disbursed_on.data,
                                           expected_version=f.version.data),
                "拨付已记录。")
