"""The policy catalogue (政策目录): browse and search, the policy page with its figures, and managing
policies and their material checklists (sysadmin, or the responsible department's lead)."""
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from ..extensions import db
from ..forms.policies import ItemForm, PolicyForm, VersionForm
from ..htmx import render
from ..models import Policy, PolicyLevel
from ..permissions import (
    ROLE_PERMISSIONS, can, get_visible_or_404, require, visible_policies,
)
from ..services import policies as service
from ..services.calendar import today

bp = Blueprint("policies", __name__, url_prefix="/policies")


def load_policy(policy_id):
    """The policy if the current user may see it, else 404."""
    return get_visible_or_404(visible_policies(current_user), policy_id, Policy)


def load_managed_policy(policy_id):
    """The policy if the current user may manage it: 404 if unseen, 403 (audited) if only seen."""
    policy = load_policy(policy_id)
    require("policy.manage", policy)
    return policy


# --------------------------------------------------------------------------- browsing


@bp.get("/")
@login_required
def index():
    """The catalogue: search by title or code, filter by level, department and 'open now'."""
    require("policy.view")
    on = today()
    filters = {
        "q": (request.args.get("q") or "").strip()[:100],
        "level": request.args.get("level") if request.args.get("level") in {l.value for l in PolicyLevel} else "",
        "department": request.args.get("department", type=int) or "",
        "open": "1" if request.args.get("open") else "",
    }
    page = max(request.args.get("page", 1, type=int), 1)
    rows, has_next = service.catalogue_page(
        current_user, q=filters["q"], level=filters["level"], department_id=filters["department"],
        open_date=on if filters["open"] else None, page=page)
    return render(
        "policies/index.html", block="results", policies=rows, page=page,
        has_next=has_next, filters=filters, levels=PolicyLevel.choices(), departments=service.departments(),
        status_of=lambda p: service.period_status(p, on),
    )


def _apply_url(policy, on):
    """The intake form for this policy, when the applications area exists, the policy is open and the
    user may take applications in."""
    if "applications.new" not in current_app.view_functions or service.application_refusal(policy, on):
        return None
    if "application.create" in ROLE_PERMISSIONS and not can(current_user, "application.create"):
        return None
    return url_for("applications.new", policy=policy.id)


def _list_url(policy):
    """The applications list filtered to this policy, when that page exists and the user may use it."""
    if "applications.index" not in current_app.view_functions:
        return None
    if "application.list" in ROLE_PERMISSIONS and not can(current_user, "application.list"):
        return None
    return url_for("applications.index", policy=policy.id)


@bp.get("/<int:policy_id>")
@login_required
def show(policy_id):
    """The policy: description, checklist of materials, and its applications by state with money totals."""
    policy = load_policy(policy_id)
    on = today()
    return render(
        "policies/show.html", policy=policy, period=service.period_status(policy, on),
        refusal=service.application_refusal(policy, on), figures=service.figures(policy),
        apply_url=_apply_url(policy, on), list_url=_list_url(policy),
    )


# --------------------------------------------------------------------------- policy form


def _department_choices(policy=None):
    units = service.departments(current_user)
    if policy is not None and policy.department not in units and can(current_user, "policy.manage", policy):
        units.insert(0, policy.department)
    return [SelectChoice(None, "请选择")] + [SelectChoice(u.id, u.name) for u in units]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Add a policy to the catalogue; its checklist is filled in on the edit page that follows."""
    require("policy.manage")
    form = PolicyForm()
    form.department_id.choices = _department_choices()
    if request.method == "GET" and len(form.department_id.choices) == 2:
        form.department_id.data = form.department_id.choices[1].value
    error = None
    if form.validate_on_submit():
        try:
            policy = service.create_policy(form.policy_data())
        except service.PolicyError as exc:
            db.session.rollback()
            error = _attach(form, exc)
        else:
            db.session.commit()
            flash(f"政策“{policy.title}”已加入目录，请继续填写申报材料清单。", "success")
            return redirect(url_for("policies.edit", policy_id=policy.id), code=303)
    return render("policies/form.html", form=form, policy=None, error=error,
                  status=422 if request.method == "POST" else 200)


def _attach(form, exc):
    """Put a service's refusal beside its field; returns it as a page-level message when it has no field."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is None:
        return str(exc)
    field.errors = list(field.errors) + [str(exc)]
    return None


def _edit_page(policy, status=200, form=None, item_forms=None, new_item=None, **extra):
    """The edit page: the policy form, one small form per checklist item, and the add-item form."""
    if form is None:
        form = PolicyForm(formdata=None, obj=policy)
        form.max_amount.data = f"{policy.max_amount:.2f}"
        form.version.data = policy.version
    form.department_id.choices = _department_choices(policy)
    forms = {
        item.id: ItemForm(formdata=None, prefix=f"item{item.id}", data={
            "name": item.name, "required": item.required, "formats": item.format_list, "note": item.note,
            "version": policy.version})
        for item in policy.items
    }
    forms.update(item_forms or {})
    new_item = new_item or ItemForm(formdata=None, prefix="new", data={"version": policy.version})
    return render("policies/form.html", policy=policy, form=form, item_forms=forms, new_item=new_item,
                  status=status, **extra)


@bp.route("/<int:policy_id>/edit", methods=["GET", "POST"])
@login_required
def edit(policy_id):
    """Edit a policy; a form based on an older version is refused, nothing is overwritten."""
    policy = load_managed_policy(policy_id)
    if request.method == "GET":
        return _edit_page(policy)
    form = PolicyForm()
    form.editing = policy
    form.department_id.choices = _department_choices(policy)
    error = stale = None
    if form.validate_on_submit():
        try:
            changed = service.update_policy(policy, form.policy_data(), form.version.data)
        except service.StalePolicyError as exc:
            stale = str(exc)
        except service.PolicyError as exc:
            error = _attach(form, exc)
        else:
            db.session.commit()
            flash("政策已保存。" if changed else "没有修改任何内容。", "success")
            return redirect(url_for("policies.show", policy_id=policy.id), code=303)
        db.session.rollback()
        policy = load_managed_policy(policy_id)
    return _edit_page(policy, status=409 if stale else 422, form=form, stale=stale, error=error)


# --------------------------------------------------------------------------- checklist


def _load_item(policy, item_id):
    item = next((i for i in policy.items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


def _item_action(policy_id, operation, message, form=None, form_key=None):
    """Run one checklist change: validate, call the service, commit once; re-render the edit page on error."""
    policy = load_managed_policy(policy_id)
    form = form or VersionForm()
    if form.validate_on_submit():
        try:
            operation(policy, form)
        except service.PolicyError as exc:
            db.session.rollback()
            policy = load_managed_policy(policy_id)
            stale = error = None
            if isinstance(exc, service.StalePolicyError):
                stale = str(exc)
            else:
                error = _attach(form, exc) if isinstance(form, ItemForm) else str(exc)
            return _edit_page(policy, status=409 if stale else 422, stale=stale, item_error=error,
                              **_bound(form_key, form))
        db.session.commit()
        flash(message, "success")
        return redirect(url_for("policies.edit", policy_id=policy.id, _anchor="checklist"), code=303)
    return _edit_page(policy, status=422, **_bound(form_key, form))


def _bound(form_key, form):
    """Keep what the user typed in the item form that failed."""
    if form_key == "new":
        return {"new_item": form}
    if form_key is not None:
        return {"item_forms": {form_key: form}}
    return {}


@bp.post("/<int:policy_id>/items")
@login_required
def add_item(policy_id):
    """Add a material to the checklist."""
    return _item_action(
        policy_id, lambda p, f: service.add_item(p, f.item_data(), f.version.data), "已添加申报材料。",
        form=ItemForm(prefix="new"), form_key="new",
    )


@bp.post("/<int:policy_id>/items/<int:item_id>")
@login_required
def update_item(policy_id, item_id):
    """Save one material's name, required flag, formats and note."""
    return _item_action(
        policy_id, lambda p, f: service.update_item(p, _load_item(p, item_id), f.item_data(), f.version.data),
        "申报材料已保存。", form=ItemForm(prefix=f"item{item_id}"), form_key=item_id,
    )


@bp.post("/<int:policy_id>/items/<int:item_id>/delete")
@login_required
def delete_item(policy_id, item_id):
    """Remove a material no application refers to yet."""
    return _item_action(
        policy_id, lambda p, f: service.remove_item(p, _load_item(p, item_id), f.version.data), "已删除申报材料。",
    )


@bp.post("/<int:policy_id>/items/<int:item_id>/move")
@login_required
def move_item(policy_id, item_id):
    """Move a material one place up or down the checklist."""
    offset = -1 if request.form.get("direction") == "up" else 1
    return _item_action(
        policy_id, lambda p, f: service.move_item(p, _load_item(p, item_id), offset, f.version.data),
        "已调整材料顺序。",
    )
