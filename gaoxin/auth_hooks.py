"""Flask-Login wiring: server-side sessions, idle time-out, forced password change, HX-Redirect to log in."""
from datetime import timedelta

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user

from .extensions import db, login_manager
from .models import utcnow
from .models.org import load_session

#: Endpoints a user who must change the initial password may still reach.
PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.logout", "static", "main.healthz"}
#: Write last_seen_at at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=60)


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_force_password_change)


def _load_user(token):
    login_session = load_session(token)
    if login_session is None:
        return None
    user = login_session.user
    now = utcnow()
    if not user.active:
        login_session.ended_at = now
        db.session.commit()
        return None
    if login_session.is_idle(current_app.config["GAOXIN_IDLE_MINUTES"], now):
        from .services.audit import record

        login_session.ended_at = now
        record("session_expired", user, user=user)
        db.session.commit()
        session["expired"] = True
        return None
    if now - login_session.last_seen_at > TOUCH_EVERY and not _is_background_poll():
        login_session.last_seen_at = now
        db.session.commit()
    user.login_session = login_session
    return user


def _is_background_poll():
    # A page left open polls its inbox counts; that is not the user being active.
    return request.headers.get("HX-Trigger-Name") == "poll" or request.args.get("poll") == "1"


def _unauthorized():
    expired = session.pop("expired", False)
    message = "长时间未操作，已自动退出，请重新登录。" if expired else "请先登录。"
    flash(message, "warning")
    target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if request.headers.get("HX-Request") == "true":
        # htmx would swap a login form into a table row; send the whole page to the login instead.
        response = current_app.response_class("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _force_password_change():
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in PASSWORD_CHANGE_ALLOWED
    ):
        if request.headers.get("HX-Request") == "true":
            response = current_app.response_class("", 200)
            response.headers["HX-Redirect"] = url_for("auth.change_password")
            return response
        flash("首次登录或密码已被重置，请先修改密码。", "warning")
        return redirect(url_for("auth.change_password"))
    return None
