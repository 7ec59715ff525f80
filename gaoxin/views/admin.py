"""Administration: units, accounts and password resets (system admin); roles and locks (security admin)."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.admin import RolesForm, SearchForm, UnitForm, UserCreateForm, UserEditForm, UserFilterForm
from ..forms.auth import PASSWORD_MIN_LENGTH
from ..models import Unit, User
from ..permissions import require
from ..services import accounts, admin
from ..services.admin import AdminRefused

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: Users per page in the admin lists (a zone has 100 to 300 staff).
USERS_PER_PAGE = 30


def _refused(form, exc):
    """Show a refused change beside its field, or as a flash when it belongs to no field."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "error")


def _save(form, change, message, endpoint):
    """Run `change()`: refused, show why beside the form; done, commit once, flash `message(result)`, go to `endpoint`."""
    try:
        result = change()
    except AdminRefused as exc:
        db.session.rollback()
        _refused(form, exc)
        return None
    db.session.commit()
    flash(message(result), "success")
    return redirect(url_for(endpoint), code=303)


def _back(default_endpoint):
    """Where to go after an action: the list the button was on (only an /admin/ path), else the list."""
    target = request.form.get("next") or ""
    if target.startswith("/admin/") and "//" not in target and "\\" not in target:
        return redirect(target, code=303)
    return redirect(url_for(default_endpoint), code=303)


def _active_units(current=None):
    units = admin.units(active_only=True)
    if current is not None and current not in units:
        units.append(current)
    return units


# Units ------------------------------------------------------------------------------------------


@bp.get("/units")
@login_required
def units():
    """Every unit with its kind, state and number of users."""
    require("unit.manage")
    return render_template("admin/units.html", rows=admin.units_with_user_counts())


@bp.route("/units/new", methods=["GET", "POST"])
@login_required
def unit_new():
    """Create a unit; a refused name or kind is shown beside its field, typed values kept."""
    require("unit.manage")
    form = UnitForm()
    if form.validate_on_submit():
        done = _save(
            form, lambda: admin.create_unit(form.name.data, form.kind.data, form.is_paying_unit.data,
                                             phone=form.phone.data),
            lambda unit: f"已新建单位“{unit.name}”。", "admin.units",
        )
        if done:
            return done
    return render_template("admin/unit_form.html", form=form, unit=None)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@login_required
def unit_edit(unit_id):
    """Change a unit's name, kind or paying flag."""
    require("unit.manage")
    unit = db.get_or_404(Unit, unit_id)
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        done = _save(
            form, lambda: admin.update_unit(unit, form.name.data, form.kind.data, form.is_paying_unit.data,
                                                   phone=form.phone.data),
            lambda changed: f"已保存单位“{unit.name}”。" if changed else "没有需要保存的修改。", "admin.units",
        )
        if done:
            return done
    return render_template("admin/unit_form.html", form=form, unit=unit)


def _set_unit_active(unit_id, active):
    require("unit.manage")
    unit = db.get_or_404(Unit, unit_id)
    if admin.set_unit_active(unit, active):
        db.session.commit()
        flash(f"已{'启用' if active else '停用'}单位“{unit.name}”。", "success")
    return _back("admin.units")


@bp.post("/units/<int:unit_id>/deactivate")
@login_required
def unit_deactivate(unit_id):
    """Deactivate a unit: it is no longer offered for new users; its users keep their accounts."""
    return _set_unit_active(unit_id, False)


@bp.post("/units/<int:unit_id>/reactivate")
@login_required
def unit_reactivate(unit_id):
    """Reactivate a deactivated unit."""
    return _set_unit_active(unit_id, True)


# Users ------------------------------------------------------------------------------------------


@bp.get("/users")
@login_required
def users():
    """Users, filtered by unit and by part of the username or name, a page at a time."""
    require("user.manage")
    filters = UserFilterForm(formdata=request.args)
    all_units = admin.units()
    filters.set_choices(all_units)
    filters.validate()
    unit_id = filters.unit_id.data if not filters.unit_id.errors else None
    page = db.paginate(
        admin.users_query(unit_id, filters.q.data), page=request.args.get("page", 1, type=int),
        per_page=USERS_PER_PAGE, error_out=False,
    )
    return render_template(
        "admin/users.html", filters=filters, page=page,
        filter_args={"q": filters.q.data or None, "unit_id": unit_id},
    )


def _managed_user(user_id):
    """The account the system admin acts on: 404 if none, 403 (audited) if it holds an admin role."""
    require("user.manage")
    user = db.get_or_404(User, user_id)
    require("user.manage", user)
    return user


def _one_time_password(user, password, created):
    return render_template("admin/password.html", user=user, password=password, created=created)


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    """Create an account without roles; its one-time password is shown on this response only."""
    require("user.manage")
    form = UserCreateForm()
    form.set_choices(_active_units())
    if form.validate_on_submit():
        try:
            user, password = admin.create_user(
                form.username.data, form.name.data, db.session.get(Unit, form.unit_id.data)
            )
        except AdminRefused as exc:
            db.session.rollback()
            _refused(form, exc)
        else:
            db.session.commit()
            # Rendered, not redirected: a flash would carry the password in the session cookie.
            return _one_time_password(user, password, created=True)
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def user_edit(user_id):
    """Change a user's name and unit; roles are shown, not edited (the security admin grants them)."""
    user = _managed_user(user_id)
    form = UserEditForm(obj=user)
    form.set_choices(_active_units(user.unit))
    if form.validate_on_submit():
        unit = db.session.get(Unit, form.unit_id.data)
        done = _save(
            form, lambda: admin.update_user(user, form.name.data, unit),
            lambda changed: f"已保存用户“{user.username}”。" if changed else "没有需要保存的修改。", "admin.users",
        )
        if done:
            return done
    return render_template("admin/user_form.html", form=form, user=user)


@bp.post("/users/<int:user_id>/disable")
@login_required
def user_disable(user_id):
    """Disable an account and end its sessions: its next request goes to the log-in page."""
    user = _managed_user(user_id)
    try:
        if admin.disable_user(current_user, user):
            db.session.commit()
            flash(f"已停用用户“{user.username}”，其登录已全部注销。", "success")
    except AdminRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return _back("admin.users")


@bp.post("/users/<int:user_id>/enable")
@login_required
def user_enable(user_id):
    """Enable a disabled account."""
    user = _managed_user(user_id)
    if admin.enable_user(user):
        db.session.commit()
        flash(f"已启用用户“{user.username}”。", "success")
    return _back("admin.users")


@bp.post("/users/<int:user_id>/reset-password")
@login_required
def user_reset_password(user_id):
    """Give the user a new one-time password, shown on this response only; their sessions end."""
    user = _managed_user(user_id)
    try:
        password = admin.reset_password(current_user, user)
    except AdminRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back("admin.users")
    db.session.commit()
    return _one_time_password(user, password, created=False)


# Security admin ---------------------------------------------------------------------------------


@bp.get("/security")
@login_required
def security():
    """Locked accounts, every account's roles, and the password policy (read-only)."""
    require("user.roles")
    search = SearchForm(formdata=request.args)
    search.validate()
    page = db.paginate(
        admin.users_query(text=search.q.data), page=request.args.get("page", 1, type=int),
        per_page=USERS_PER_PAGE, error_out=False,
    )
    policy = {
        "min_length": PASSWORD_MIN_LENGTH,
        "history": accounts.PASSWORD_HISTORY,
        "max_age_days": accounts.max_age_days(),
        "max_failures": accounts.MAX_FAILED_LOGINS,
        "lock_minutes": int(accounts.LOCKOUT.total_seconds() // 60),
        "idle_minutes": current_app.config["GAOXIN_IDLE_MINUTES"],
    }
    return render_template(
        "admin/security.html", locked=admin.locked_users(), search=search, page=page, policy=policy,
        filter_args={"q": search.q.data or None},
    )


@bp.post("/security/users/<int:user_id>/unlock")
@login_required
def unlock(user_id):
    """Lift a failed-log-in lockout before its 15 minutes are up."""
    require("user.unlock")
    user = db.get_or_404(User, user_id)
    if admin.unlock(user):
        db.session.commit()
        flash(f"已解除“{user.username}”的锁定。", "success")
    else:
        flash(f"“{user.username}”未处于锁定状态。", "info")
    return _back("admin.security")


@bp.route("/security/users/<int:user_id>/roles", methods=["GET", "POST"])
@login_required
def roles(user_id):
    """Grant or withdraw any role, the three admin roles included, under 三员分立; never one's own."""
    require("user.roles")
    user = db.get_or_404(User, user_id)
    form = RolesForm()
    if request.method == "GET":
        form.roles.data = [r.value for r in user.roles]
    if form.validate_on_submit():
        done = _save(
            form, lambda: admin.change_roles(current_user, user, form.roles.data or []),
            lambda changed: f"已变更“{user.username}”的角色。" if changed else "角色没有变化。", "admin.security",
        )
        if done:
            return done
    return render_template("admin/roles.html", form=form, user=user)
