"""Who may see and do what: `can(user, action, obj)` and the `visible_*` queries, answered in one place."""
from flask import abort
from flask_login import current_user
from sqlalchemy import select

from .extensions import db
from .models import Enterprise, Role

#: Staff who work cases and therefore use the enterprise registry.
CASE_ROLES = frozenset({Role.clerk, Role.window, Role.dispatcher, Role.handler, Role.dept_lead, Role.leader})

#: action → roles allowed to perform it (deny by default: an action not listed is refused).
ROLE_PERMISSIONS = {
    "enterprise.view": CASE_ROLES | {Role.sysadmin},
    "enterprise.create": frozenset({Role.clerk, Role.window, Role.dispatcher, Role.sysadmin}),
    "enterprise.edit": frozenset({Role.clerk, Role.window, Role.dispatcher, Role.sysadmin}),
    "enterprise.reveal_mobile": CASE_ROLES - {Role.leader},
    "enterprise.import": frozenset({Role.sysadmin}),
    "unit.manage": frozenset({Role.sysadmin}),
    "user.manage": frozenset({Role.sysadmin}),
    # 三员分立: the security admin grants roles and unlocks accounts; the sysadmin cannot.
    "user.roles": frozenset({Role.secadmin}),
    "user.unlock": frozenset({Role.secadmin}),
    "audit.view": frozenset({Role.auditor}),
}


def can(user, action, obj=None):
    """May `user` perform `action` (on `obj`)? Unknown actions are refused."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    allowed = ROLE_PERMISSIONS.get(action)
    if allowed is None or not user.has_role(*allowed):
        return False
    check = OBJECT_CHECKS.get(action)
    return check(user, obj) if (check and obj is not None) else True


def _user_manageable_by_sysadmin(user, target):
    # The system admin may not touch the accounts of the three admins (that is the security admin's job).
    return not target.has_role(Role.sysadmin, Role.secadmin, Role.auditor) or target.id == user.id


def _roles_manageable(user, target):
    # Nobody grants roles to themselves.
    return target.id != user.id


#: action → extra check on the object, after the role check passed.
OBJECT_CHECKS = {
    "user.manage": _user_manageable_by_sysadmin,
    "user.roles": _roles_manageable,
}


def require(action, obj=None):
    """Abort with 403 (audited) unless the current user may perform `action`."""
    if not can(current_user, action, obj):
        from .services.audit import record

        record("access_denied", obj, result="denied", detail=action)
        db.session.commit()
        abort(403)


def visible_enterprises(user):
    """The enterprises `user` may open: the whole registry for case-working staff, none otherwise."""
    query = select(Enterprise)
    if not can(user, "enterprise.view"):
        return query.where(False)
    return query


def get_visible_or_404(query, object_id, model):
    """Load one object through a visibility query; 404 for what the user may not see."""
    obj = db.session.scalar(query.where(model.id == object_id))
    if obj is None:
        abort(404)
    return obj
