"""Policy applications (政策兑现申报): intake and drafts, the application page with its actions and timeline,
the department's review list, the paying unit's disbursement list, printable notices, files."""
import secrets

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..forms import applications as forms
from ..forms.fields import add_errors, prefix_ids
from ..htmx import render
from ..models import Application, ItemCheck
from ..permissions import application_actions_for, require, visible_applications
from ..services import applications as service
from ..services import files, intake
from ..services.calendar import today, working_calendar
from ..services.cases import InputError, by_submission_token
from ..workflow import ApplicationState, WorkflowError
from .actions import CaseKind, add_action_routes, send_attachment

bp = Blueprint("applications", __name__, url_prefix="/applications")


@bp.context_processor
def _helpers():
    return {"action_title": service.action_title, "due_text": service.due_text, "is_overdue": service.is_overdue}


def _page():
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _receipt():
    return (request.args.get("receipt") or "").strip().upper()


# --------------------------------------------------------------------------- lists


@bp.get("/")
@login_required
def index():
    """The applications the user may see, newest first, filtered by state, policy or receipt number."""
    require("application.list")
    filters = {"state": request.args.get("state") or "", "policy": request.args.get("policy", type=int) or "",
               "receipt": _receipt()}
    rows, has_next = service.list_page(current_user, state=filters["state"], policy_id=filters["policy"],
                                       receipt=filters["receipt"], page=_page())
    return render(
        "applications/index.html", block="results", applications=rows, page=_page(), has_next=has_next,
        states=[(s.value, s.title) for s in ApplicationState], policies=service.policies(), filters=filters,
        calendar=working_calendar(), today=today(),
    )


@bp.get("/review")
@login_required
def review():
    """实质审查 list of the department: its policies' applications, by review deadline, with overdue flags."""
    require("application.review")
    state = request.args.get("state")
    state = state if state in service.REVIEW_STATES else service.REVIEW_STATES[0]
    filters = {"state": state, "policy": request.args.get("policy", type=int) or "", "receipt": _receipt(),
               "overdue": "1" if request.args.get("overdue") == "1" else ""}
    rows, has_next = service.review_page(current_user, state=state, policy_id=filters["policy"],
                                         receipt=filters["receipt"], overdue=bool(filters["overdue"]), page=_page())
    return render(
        "applications/review.html", block="results", applications=rows, page=_page(), has_next=has_next,
        states=[(s, ApplicationState(s).title) for s in service.REVIEW_STATES],
        policies=service.policies(department_id=current_user.unit_id), filters=filters,
        calendar=working_calendar(), today=today(),
    )


@bp.get("/disbursements")
@login_required
def disbursements():
    """拨付 list of the paying unit: approved results awaiting disbursement (or, with done=1, those paid)."""
    require("application.disburse")
    done = request.args.get("done") == "1"
    rows, has_next = service.disbursement_page(current_user, done=done, page=_page())
    return render("applications/disbursements.html", block="results", applications=rows, page=_page(),
                  has_next=has_next, filters={"done": "1" if done else ""}, calendar=working_calendar(), today=today())


# --------------------------------------------------------------------------- intake


def _policy_select(form):
    form.policy_id.choices = [(None, "请选择")] + [
        (p.id, f"{p.code} {p.title}（{p.level_title}，最高{service.format_money(p.max_amount)}）"
         + (f"：{reason}" if reason else ""),
         {"disabled": True} if reason and p.id != form.policy_id.data else {})
        for p, reason in service.policy_choices()
    ]


def _store_uploads(policy):
    """Store each checklist item's uploads (type checked by content against the item's formats).
    Returns (attachments, {item id: message})."""
    stored, errors = [], {}
    for item in (policy.items if policy else []):
        kept, refused = files.store_uploads(request.files.getlist(f"file-{item.id}"), current_user,
                                            owner_type="application", item_key=str(item.id), kinds=item.format_list)
        stored += kept
        if refused:
            errors[item.id] = f"“{item.name}”：{refused[-1]}"
    return stored, errors


def _marked(policy, name):
    """The checklist items whose `name`-<item id> checkbox is ticked (paper received, absent)."""
    return {item.id for item in (policy.items if policy else []) if request.form.get(f"{name}-{item.id}")}


def _prefill(form, application):
    form.submission_token.data = secrets.token_urlsafe(24)
    if application is None:
        form.enterprise_id.data = request.args.get("enterprise", type=int)
        form.policy_id.data = request.args.get("policy", type=int)
        return
    form.version.data = application.version
    form.enterprise_id.data, form.policy_id.data = application.enterprise_id, application.policy_id
    form.declared_amount.data = f"{application.declared_amount:.2f}"
    form.contact_id.data = application.contact_id


def _save(form, application, policy, pending, paper, absent, intent, upload_errors):
    """Resolve the enterprise and contact, check policy and amount, then save the draft or submit it.
    Returns (saved application or None, enterprise, candidates, item errors, error, status)."""
    form.validate()
    pick, errors = service.check_intake(
        current_user, enterprise_id=form.enterprise_id.data, enterprise_query=form.enterprise_query.data,
        new_name=form.new_enterprise_name.data, new_code=form.new_credit_code.data, policy=policy,
        declared_amount=getattr(form.declared_amount, "amount", None), policy_refused=bool(form.policy_id.errors))
    add_errors(form, errors)
    # Uploaded files and a newly registered enterprise are kept, whatever happens to the rest.
    db.session.commit()
    enterprise, contact = pick.enterprise, None
    if enterprise is not None:
        contact, contact_errors = intake.pick_contact(enterprise, contact_id=form.contact_id.data,
                                                      name=form.contact_name.data, mobile=form.contact_mobile.data)
        add_errors(form, contact_errors)
    if enterprise is None or upload_errors or form.form_errors or any(f.errors for f in form):
        return None, enterprise, pick.candidates, {}, None, 422
    try:
        saved, _ = service.save(
            current_user, application=application, enterprise=enterprise, policy=policy,
            declared_amount=form.declared_amount.amount, contact=contact,
            materials=service.materials(policy, pending, paper), absent=absent, submit=intent == "submit",
            submission_token=form.submission_token.data, expected_version=form.version.data)
        db.session.commit()
    except InputError as exc:
        db.session.rollback()
        if exc.field:
            form[exc.field].errors.append(str(exc))
        return None, enterprise, [], exc.item_errors, None if exc.field else str(exc), 422
    except (WorkflowError, StaleDataError) as exc:
        db.session.rollback()
        return None, enterprise, [], {}, str(exc) if isinstance(exc, WorkflowError) else service.STALE, 409
    except IntegrityError:
        # The same form sent twice at the same instant: the other request saved it; show that one.
        db.session.rollback()
        saved = by_submission_token(Application, form.submission_token.data) if application is None else None
        if saved is None:
            raise
    return saved, enterprise, [], {}, None, 200


def _intake(application=None):
    """The intake form for a new application or a draft: resolve, store files, save or submit, else re-render."""
    form = forms.IntakeForm()
    if request.method == "GET":
        _prefill(form, application)
    elif application is not None and application.state != ApplicationState.draft.value:
        flash(f"该申报已提交（回执号 {application.receipt_no}）。", "info")
        return redirect(url_for("applications.show", application_id=application.id), code=303)
    elif application is None and (existing := by_submission_token(Application, form.submission_token.data)):
        # The same form sent twice (double click, reload): show what the first one made.
        return redirect(url_for("applications.show" if existing.receipt_no else "applications.edit",
                                application_id=existing.id), code=303)
    enterprise = intake.visible_enterprise(current_user, form.enterprise_id.data)
    policy = service.policy(form.policy_id.data)
    pending = files.pending_attachments(current_user, (form.attachment_ids.data or "").split(","), "application")
    paper, absent, item_errors, candidates, error, status = set(), set(), {}, [], None, 200
    if request.method == "POST":
        intent = request.form.get("intent", "draft")
        stored, item_errors = _store_uploads(policy)
        pending += stored
        paper, absent = _marked(policy, "paper"), _marked(policy, "absent")
        if intent == "refresh":
            db.session.commit()
        else:
            saved, enterprise, candidates, save_errors, error, status = _save(
                form, application, policy, pending, paper, absent, intent, item_errors)
            item_errors = {**item_errors, **save_errors}
            if saved is not None:
                if saved.receipt_no:
                    flash(f"申报已提交，回执号 {saved.receipt_no}，等待窗口形式审查。", "success")
                    return redirect(url_for("applications.show", application_id=saved.id), code=303)
                flash("草稿已保存，可随时继续填写。", "success")
                return redirect(url_for("applications.edit", application_id=saved.id), code=303)
        application, enterprise, policy, pending = _reload(form, application, enterprise, policy, pending)
    form.attachment_ids.data = ",".join(str(a.id) for a in pending)
    form.contact_id.choices = intake.contact_choices(enterprise)
    _policy_select(form)
    return render(
        "applications/new.html", form=form, application=application, enterprise=enterprise,
        candidates=candidates, policy=policy, closed_reason=service.closed_reason(policy) if policy else None,
        checklist=service.checklist(policy, application, pending, paper, item_errors, absent), error=error,
        status=status,
    )


def _reload(form, application, enterprise, policy, pending):
    """After a refused save: roll back, then load again what the form shows (files kept, newest version)."""
    db.session.rollback()
    pending = files.pending_attachments(current_user, [a.id for a in pending], "application")
    if application is not None:
        application = db.session.get(Application, application.id)
        form.version.data = application.version
    enterprise = intake.visible_enterprise(current_user, enterprise.id) if enterprise is not None else None
    form.enterprise_id.data = enterprise.id if enterprise else form.enterprise_id.data
    return application, enterprise, service.policy(policy.id) if policy is not None else None, pending


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
    application = APPLICATIONS.load(application_id)
    require("application.create", application)
    if request.method == "GET" and application.state != ApplicationState.draft.value:
        return redirect(url_for("applications.show", application_id=application.id))
    return _intake(application)


@bp.get("/checklist")
@login_required
def checklist():
    """The checklist part of the intake form for the chosen policy (htmx fragment of the form)."""
    require("application.create")
    policy = service.policy(request.args.get("policy_id", type=int))
    return render("applications/new.html", block="checklist", form=forms.IntakeForm(formdata=None), policy=policy,
                  application=None, closed_reason=service.closed_reason(policy) if policy else None,
                  checklist=service.checklist(policy, None, [], set(), {}))


@bp.get("/contact-options")
@login_required
def contact_options():
    """The contact select for the enterprise picked in the intake form (htmx fragment)."""
    require("application.create")
    enterprise = intake.visible_enterprise(current_user, request.args.get("enterprise_id", type=int))
    form = forms.IntakeForm(formdata=None)
    form.contact_id.choices = intake.contact_choices(enterprise)
    return render("applications/new.html", block="contact_select", form=form, enterprise=enterprise)


# --------------------------------------------------------------------------- the application page


def _marks_from_request(application):
    return {
        row.item_id: (request.form.get(f"mark-{row.item_id}"), (request.form.get(f"reason-{row.item_id}") or "").strip()[:300])
        for row in application.items
    }


#: The action form shown open on the page, the first whose action the user may take.
DEFAULT_FORMS = [("check", "check"), ("materials", "resubmit"), ("approve", "review"), ("disburse", "disburse")]


def _action_forms(application, bound, pending):
    version = application.version
    action_forms = {
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
    for name, form in bound.items():
        form.version.data = version
        action_forms[name] = form
    prefix_ids(action_forms)
    action_forms["back"].item_ids.choices = [(row.item_id, row.item.name) for row in application.items]
    action_forms["materials"].attachment_ids.data = ",".join(str(a.id) for a in pending)
    return action_forms


def _detail_context(application, bound=None, marks=None, item_errors=None, pending=(), **extra):
    attached = service.attachments_by_item(application.id)
    notices = service.notices_of(application)
    actions = application_actions_for(current_user, application)
    return {
        "application": application, "events": service.events_of(application), "actions": actions,
        "notices": notices, "notice_items": service.notice_items, "attached": attached,
        "check_rows": service.check_rows(application, attached, marks),
        "notice_kinds": [(k, t) for k, t in service.NOTICE_TITLES.items()
                         if service.notice_available(application, k, notices)],
        "complete": service.is_complete(application), "item_errors": item_errors or {}, "pending": list(pending),
        "calendar": working_calendar(), "today": today(), "item_checks": ItemCheck.choices(), "open_form": None,
        "default_form": next((name for name, action in DEFAULT_FORMS if action in actions), None),
        "forms": _action_forms(application, bound or {}, pending), **extra,
    }


APPLICATIONS = CaseKind(
    model=Application, visible=visible_applications, template="applications/show.html",
    endpoint="applications.show", id_arg="application_id", changed_event="applications-changed",
    stale_message=service.STALE, context=_detail_context, gone_endpoint="applications.index",
)


@bp.get("/<int:application_id>")
@login_required
def show(application_id):
    """The application: facts, checklist and files, the actions open to the user, notices, timeline."""
    application = APPLICATIONS.load(application_id)
    return render("applications/show.html", block="panel", **_detail_context(application))


@bp.get("/<int:application_id>/files/<int:attachment_id>")
@login_required
def download(application_id, attachment_id):
    """A file of an application the user may see, after verifying its SHA-256."""
    application = APPLICATIONS.load(application_id)
    return send_attachment("application", application.id, attachment_id)


@bp.get("/<int:application_id>/notice/<kind>")
@login_required
def notice(application_id, kind):
    """A printable notice (受理通知书, 一次性告知书, 不予受理通知书, 审核结果通知书); 404 where none exists."""
    application = APPLICATIONS.load(application_id)
    context = service.notice_context(application, kind, request.args.get("notice", type=int))
    if context is None:
        abort(404)
    return render("applications/notice.html", application=application, kind=kind,
                  item_checks=dict(ItemCheck.choices()), **context)


# --------------------------------------------------------------------------- actions


@bp.post("/<int:application_id>/check")
@login_required
def check(application_id):
    """形式审查 at the window: mark each item, then accept, issue the one-time supplement notice, or refuse."""
    application = APPLICATIONS.load(application_id)
    marks = _marks_from_request(application)
    decision = request.form.get("decision", "")
    message = {"accept": "已受理，已转部门审查。", "supplement": "已出具一次性告知书，请打印交企业。",
               "refuse": "已不予受理。"}.get(decision, "已处理。")
    return APPLICATIONS.run(
        application, "check", forms.CheckForm(), "application.check",
        lambda f: service.check(application, current_user, decision=decision, marks=marks, reason=f.reason.data,
                                expected_version=f.version.data),
        message, marks=marks)


@bp.post("/<int:application_id>/materials")
@login_required
def materials(application_id):
    """补充材料: the window adds files or paper marks per item (files are never deleted)."""
    application = APPLICATIONS.load(application_id)
    require("application.check", application)
    form = forms.MaterialsForm()
    pending = files.pending_attachments(current_user, (form.attachment_ids.data or "").split(","), "application")
    stored, item_errors = _store_uploads(application.policy)
    paper = _marked(application.policy, "paper")
    db.session.commit()
    pending = files.pending_attachments(current_user, [a.id for a in pending + stored], "application")
    if item_errors:
        return APPLICATIONS.page(application, 422, error="有文件未通过检查，请按提示重新选择。", open_form="materials",
                                 bound={"materials": form}, item_errors=item_errors, pending=pending)
    return APPLICATIONS.run(
        application, "materials", form, "application.check",
        lambda f: service.add_materials(application, current_user,
                                        materials=service.materials(application.policy, pending, paper),
                                        expected_version=f.version.data),
        "材料已补充。", pending=pending)


def _back_form(application):
    form = forms.BackForm()
    form.item_ids.choices = [(row.item_id, row.item.name) for row in application.items]
    return form


#: Endpoint → (URL, form name, form class or form(application), permission, operation(application, form), message).
ACTIONS = {
    "resubmit": ("resubmit", "resubmit", forms.ResubmitForm, "application.check",
                 lambda a, f: service.resubmit(a, current_user, expected_version=f.version.data),
                 "补正材料已收齐，请进行形式审查。"),
    "approve": ("approve", "approve", forms.ApproveForm, "application.review",
                lambda a, f: service.approve(a, current_user, amount=f.amount.amount,
                                             comment=(f.comment.data or "").strip(), expected_version=f.version.data),
                "已审核通过。"),
    "reject": ("reject", "reject", forms.RejectForm, "application.review",
               lambda a, f: service.reject(a, current_user, reason=f.reason.data.strip(),
                                           expected_version=f.version.data), "已审核不通过。"),
    "back": ("back", "back", _back_form, "application.review",
             lambda a, f: service.back_to_supplement(a, current_user, item_ids=f.item_ids.data,
                                                     reason=f.reason.data.strip(), expected_version=f.version.data),
             "已退回补正，告知书已生成。"),
    "issue_result": ("issue-result", "issue_result", forms.IssueResultForm, "application.check",
                     lambda a, f: service.issue_result(a, current_user, expected_version=f.version.data),
                     "已出件，请打印审核结果通知书。"),
    "disburse": ("disburse", "disburse", forms.DisburseForm, "application.disburse",
                 lambda a, f: service.disburse(a, current_user, amount=f.amount.amount, on=f.disbursed_on.data,
                                               expected_version=f.version.data), "拨付已记录。"),
}
add_action_routes(bp, APPLICATIONS, ACTIONS)
