"""Who is logged in on the portal: `portal_required`, `current_account()`, `current_enterprise()`, and the
fence that keeps enterprise accounts off staff pages (auth_hooks' one user loader loads both kinds).

Staff and enterprise sessions share Flask-Login's cookie but never a table: an enterprise session's id is
`e.<token>` of an `enterprise_sessions` row (models/portal.py), a staff session's the bare token of a
`user_sessions` row. An enterprise account reaches only the portal and the public pages: any other endpoint
answers 404 (audited as 越权尝试), except the staff home and log-in pages, which send it to its own portal;
so no staff page or partial ever renders for it. Staff get 404 on the portal. `permissions.can()` refuses
an enterprise account everything, since it holds no role.
"""
from functools import wraps

from flask import redirect, request, url_for
from flask_login import current_user

from .permissions import NotVisible

#: Endpoints outside the portal that an enterprise account may reach (the public ones).
OPEN_TO_ENTERPRISES = frozenset({"static", "ops.healthz", "ops.readyz", "salons.signup"})
#: Blueprints open to everyone (the public receipt lookup).
OPEN_BLUEPRINTS = frozenset({"public", "portal"})
#: Staff entry pages that send an enterprise account to its portal instead of a 404.
SEND_TO_PORTAL = frozenset({"main.home", "auth.login"})


def is_enterprise(user):
    """Is `user` (current_user or a model) an enterprise account?"""
    return bool(getattr(user, "is_enterprise", False)) and user.is_authenticated


def current_account():
    """The logged-in EnterpriseAccount, or None (anonymous or staff)."""
    return current_user._get_current_object() if is_enterprise(current_user) else None


def current_enterprise():
    """The logged-in account's Enterprise, or None."""
    account = current_account()
    return account.enterprise if account is not None else None


def portal_required(view):
    """Portal views: anonymous → the portal log-in page (htmx: HX-Redirect); staff → 404."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            from .auth_hooks import send_to_log_in

            return send_to_log_in("portal.login")
        if not is_enterprise(current_user):
            raise NotVisible("portal.staff", "Endpoint", request.endpoint)
        return view(*args, **kwargs)

    return wrapped


def fence():
    """before_request: an enterprise account gets nothing outside the portal and the public pages."""
    endpoint = request.endpoint or ""
    if endpoint in OPEN_TO_ENTERPRISES or endpoint.split(".", 1)[0] in OPEN_BLUEPRINTS:
        return None
    if not is_enterprise(current_user):
        return None
    if endpoint in SEND_TO_PORTAL and request.method == "GET":
        return redirect(url_for("portal.home"))
    raise NotVisible("portal.staff_page", "Endpoint", endpoint[:40] or request.path[:40])
