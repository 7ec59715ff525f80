"""Log in, log out and change one's own password."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, limiter
from ..forms.auth import LoginForm, PasswordChangeForm
from ..services import accounts
from ..services.audit import record

bp = Blueprint("auth", __name__)


def _safe_next(target):
    """Only same-site paths: never redirect to another host after log-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login():
    """The log-in page; a wrong password and an unknown user get the same message."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.username.data, form.password.data,
                ip=request.remote_addr, user_agent=request.headers.get("User-Agent"),
            )
        except accounts.LoginRefused as exc:
            db.session.commit()
            error = str(exc)
        else:
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/login.html", form=form, error=error), (401 if error else 422 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    """End the server-side session so that a captured cookie stops working."""
    return end_login(current_user._get_current_object(), "logout", "auth.login")


def end_login(person, action, login_endpoint):
    """Log `person` (a staff user or an enterprise account) out: end its server-side session, audit `action`,
    forget the cookie's user and go to `login_endpoint`."""
    accounts.end_session(person.login_session)
    record(action, person)
    db.session.commit()
    logout_user()
    flash("您已安全退出。", "success")
    return redirect(url_for(login_endpoint))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password (forced after the first log-in, a reset or when it is too old); every
    other session of the user ends, this one stays."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append("当前密码不正确。")
        else:
            try:
                accounts.change_password(current_user, form.new.data, keep_session=current_user.login_session)
            except accounts.PasswordRefused as exc:
                db.session.rollback()
                form.new.errors.append(str(exc))
            else:
                db.session.commit()
                flash("密码已修改，您在其他地方的登录已全部注销。", "success")
                return redirect(url_for("main.home"))
    return render_template(
        "auth/password.html", form=form, reason=accounts.must_change_password(current_user),
        reset_notice=accounts.reset_notice(current_user), max_age_days=accounts.max_age_days(),
        history=accounts.PASSWORD_HISTORY,
    )
