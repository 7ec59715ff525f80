"""Flask-Login wiring: server-side sessions, idle time-out, forced password change (one-time or expired), HX-Redirect to log in."""
import functools
from datetime import timedelta

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from .extensions import db, login_manager
from .models import utcnow
from .models.org import User, UserSession
from .models.portal import SESSION_PREFIX, load_enterprise_session
from . import portal_auth
from .services import calendar, work

#: Endpoints a user who must change the initial password may still reach.
PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.logout", "static", "ops.healthz", "ops.readyz",
                           "ops.metrics_view"}
#: Write last_seen_at at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=60)


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    # First: an enterprise account never reaches a staff view, not even its password check.
    app.before_request(portal_auth.fence)
    app.before_request(_force_password_change)


def _load_user(token):
    """The staff User or the EnterpriseAccount of a cookie's session id (portal sessions are `e.<token>`)."""
    if token.startswith(SESSION_PREFIX):
        login_session = load_enterprise_session(token[len(SESSION_PREFIX):])
        person = login_session.account if login_session is not None else None
    else:
        login_session = _open_session(token)
        person = login_session.user if login_session is not None else None
    return _resume(login_session, person)


def _open_session(token):
    """The open UserSession of `token` with its user, unit and roles, and the stamps that the pages' caches are
    keyed on (the calendar's and the user's unit's work stamp), in one statement: before, these were four
    round trips at the start of every page."""
    row = db.session.execute(_open_session_statement(), {"token": token}).unique().first()
    if row is None:
        return None
    login_session, *calendar_stamp, version, changed_at = row
    calendar.preload_stamp(tuple(calendar_stamp))
    work.preload(login_session.user.unit_id, version, changed_at)
    return login_session


@functools.cache
def _open_session_statement():
    """_open_session's statement, built once per worker (building its seven subqueries on every request cost more
    than running it)."""
    return (select(UserSession, *calendar.stamp_columns(), *work.stamp_columns(UserSession.user_id))
            .where(UserSession.token == bindparam("token"), UserSession.ended_at.is_(None))
            .options(joinedload(UserSession.user).joinedload(User.role_rows)))


def _resume(login_session, person):
    """`person` with its open session, or None when the session ended, idled out or the account is disabled."""
    if login_session is None:
        return None
    now = utcnow()
    if not person.active:
        login_session.ended_at = now
        db.session.commit()
        return None
    if login_session.is_idle(current_app.config["GAOXIN_IDLE_MINUTES"], now):
        from .services.audit import record

        login_session.ended_at = now
        record("session_expired", person, user=person)
        db.session.commit()
        session["expired"] = True
        return None
    if now - login_session.last_seen_at > TOUCH_EVERY and not _is_background_poll():
        login_session.last_seen_at = now
        db.session.commit()
    person.login_session = login_session
    return person


def _is_background_poll():
    # A page left open polls its inbox counts; that is not the user being active.
    return request.headers.get("HX-Trigger-Name") == "poll" or request.args.get("poll") == "1"


def _unauthorized():
    return send_to_log_in("auth.login")


def send_to_log_in(endpoint):
    """To the log-in page `endpoint` (staff or portal), saying why; htmx gets an HX-Redirect."""
    expired = session.pop("expired", False)
    message = "长时间未操作，已自动退出，请重新登录。" if expired else "请先登录。"
    flash(message, "warning")
    target = url_for(endpoint, next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if request.headers.get("HX-Request") == "true":
        # htmx would swap a login form into a table row; send the whole page to the login instead.
        response = current_app.response_class("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


#: Why the password must be changed → the message on the way to the change page.
FORCED_CHANGE_MESSAGES = {
    "initial": "首次登录须修改初始密码，请先修改密码。",
    "reset": "您的密码已被管理员重置，请先修改密码。",
    "expired": "您的密码已超过有效期，请先修改密码。",
}


def _force_password_change():
    # A one-time (initial or reset) or expired password opens only the change page: it cannot be used to work.
    if (not current_user.is_authenticated or request.endpoint in PASSWORD_CHANGE_ALLOWED
            or portal_auth.is_enterprise(current_user)):
        return None
    from .services.accounts import must_change_password

    reason = must_change_password(current_user)
    if reason is None:
        return None
    if request.headers.get("HX-Request") == "true":
        response = current_app.response_class("", 200)
        response.headers["HX-Redirect"] = url_for("auth.change_password")
        return response
    flash(FORCED_CHANGE_MESSAGES[reason], "warning")
    return redirect(url_for("auth.change_password"))
