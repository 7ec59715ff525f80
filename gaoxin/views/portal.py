"""The enterprise portal (/e): log-in, activation with a printed code, log-out, password change, 我的事项."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_user

from ..extensions import db, limiter
from ..forms.portal import ActivationForm, PortalLoginForm, PortalPasswordForm
from ..models import Appeal, Application, ItemCheck
from ..portal_auth import current_account, current_enterprise, portal_required
from ..services import portal_accounts
from ..services import applications as application_service
from ..services import portal_cases as cases
from ..services.public import describe_appeal, describe_application
from ..services.accounts import LoginRefused
from ..services.audit import record
from ..services.cases import InputError
from .auth import _safe_next, end_login

bp = Blueprint("portal", __name__, url_prefix="/e")

#: Log-in and activation tries per address (the lock-out guards each account; this guards the site).
LOGIN_LIMIT = "10 per minute"
ACTIVATE_LIMIT = "10 per minute"


def _refused(form, exc):
    """A refusal of the service: nothing kept, the message beside its field."""
    db.session.rollback()
    getattr(form, exc.field).errors.append(str(exc))


def _start(account):
    login_user(account)
    return redirect(_safe_next(request.args.get("next")) or url_for("portal.home"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login():
    """The enterprise log-in page; a wrong password and an unknown name get the same message."""
    if current_account() is not None:
        return redirect(url_for("portal.home"))
    form = PortalLoginForm()
    error = None
    if form.validate_on_submit():
        try:
            account = portal_accounts.authenticate(
                form.login_name.data, form.password.data,
                ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))
        except LoginRefused as exc:
            db.session.commit()
            error = str(exc)
        else:
            db.session.commit()
            return _start(account)
    status = 401 if error else 422 if form.errors else 200
    return render_template("portal/login.html", form=form, error=error), status


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit(ACTIVATE_LIMIT, methods=["POST"])
def activate():
    """Activate an account (or set a new password) with a code printed on a receipt or notice, then log in."""
    form = ActivationForm()
    if form.validate_on_submit():
        try:
            account = portal_accounts.activate(
                form.credit_code.data, form.code.data, form.login_name.data, form.password.data,
                ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))
        except InputError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            flash("账号已激活，欢迎使用。", "success")
            return _start(account)
    status = 422 if form.errors else 200
    return render_template("portal/activate.html", form=form), status


@bp.post("/logout")
@portal_required
def logout():
    """End the server-side session so that a captured cookie stops working."""
    return end_login(current_account(), "portal_logout", "portal.login")


@bp.route("/password", methods=["GET", "POST"])
@portal_required
def change_password():
    """Change the account's own password; every other session of the account ends, this one stays."""
    account = current_account()
    form = PortalPasswordForm()
    if form.validate_on_submit():
        try:
            portal_accounts.change_password(account, form.current.data, form.new.data,
                                            keep_session=account.login_session)
        except InputError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            flash("密码已修改，您在其他地方的登录已全部注销。", "success")
            return redirect(url_for("portal.home"))
    # The staff page's form and words in the portal's frame (no password history is kept for enterprise accounts).
    return render_template("auth/password.html", form=form, frame="portal/base.html", reason=None, reset_notice=None,
                           history=None), (422 if form.errors else 200)


@bp.get("/")
@portal_required
def home():
    """我的事项: the enterprise's appeals (or, on the second tab, its applications), newest first, paginated."""
    kind = request.args.get("kind") if request.args.get("kind") in cases.KINDS else "appeals"
    page = max(request.args.get("page", 1, type=int), 1)
    lister = cases.appeal_rows if kind == "appeals" else cases.application_rows
    rows, has_next = lister(current_enterprise(), page)
    return render_template("portal/home.html", account=current_account(), kind=kind, kinds=cases.KINDS, rows=rows,
                           page=page, has_next=has_next)


@bp.get("/appeals/<int:appeal_id>")
@portal_required
def appeal(appeal_id):
    """One of the enterprise's appeals: state, due date, the reply and the public timeline, nothing internal."""
    own = cases.load_own(Appeal, appeal_id, current_enterprise())
    return render_template("portal/case.html", kind="appeals", case_id=own.id, case=describe_appeal(own), notices=[],
                           can_rate=own.state.value == "replied" and not own.is_merged)


@bp.get("/appeals/<int:appeal_id>/receipt")
@portal_required
def appeal_receipt(appeal_id):
    """The appeal's printable receipt (回执), without the name of the clerk who recorded it."""
    own = cases.load_own(Appeal, appeal_id, current_enterprise())
    return render_template("appeals/receipt.html", appeal=own, **PORTAL_PRINT,
                           back_url=url_for("portal.appeal", appeal_id=own.id))


@bp.get("/applications/<int:application_id>")
@portal_required
def application(application_id):
    """One of the enterprise's applications: state, due date, result, public timeline and its notices."""
    own = cases.load_own(Application, application_id, current_enterprise())
    return render_template("portal/case.html", kind="applications", case_id=own.id,
                           case=describe_application(own), notices=cases.notice_links(own),
                           can_supplement=own.state.value == "awaiting_supplement")


@bp.get("/applications/<int:application_id>/notice/<kind>")
@portal_required
def application_notice(application_id, kind):
    """A notice of the enterprise's application to view and print, without the staff member's name."""
    own = cases.load_own(Application, application_id, current_enterprise())
    context = application_service.notice_context(own, kind, request.args.get("notice", type=int))
    if context is None:
        abort(404)
    record("portal_notice_viewed", own, detail=kind)
    db.session.commit()
    return render_template("applications/notice.html", application=own, kind=kind,
                           item_checks=dict(ItemCheck.choices()),
                           **PORTAL_PRINT, back_url=url_for("portal.application", application_id=own.id), **context)


#: How the staff side's printable receipt and notices render for an enterprise: in the portal's frame, with no
#: staff member's name on them.
PORTAL_PRINT = {"frame": "portal/base.html", "for_enterprise": True}


#: The portal's menu: (label, endpoint). Other portal modules append their pages (messages, online appeal).
PORTAL_NAV = [("我的事项", "portal.home")]


@bp.app_template_global()
def portal_nav():
    return PORTAL_NAV


@bp.app_template_global()
def portal_account():
    return current_account()
