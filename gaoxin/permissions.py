"""Who may see and do what: `can(user, action, obj)` and the `visible_*` queries, answered in one place."""
from flask import abort
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from .extensions import db
from .models import Enterprise, Role
from .workflow import AppealState, ApplicationOutcome, ApplicationState

#: Staff who work cases and therefore use the enterprise registry.
CASE_ROLES = frozenset({Role.clerk, Role.window, Role.dispatcher, Role.handler, Role.dept_lead, Role.leader})

#: Department staff who work the inbox.
DEPARTMENT_ROLES = frozenset({Role.handler, Role.dept_lead})

#: action → roles allowed to perform it (deny by default: an action not listed is refused).
ROLE_PERMISSIONS = {
    "enterprise.view": CASE_ROLES | {Role.sysadmin},
    "enterprise.create": frozenset({Role.clerk, Role.window, Role.dispatcher, Role.sysadmin}),
    "enterprise.edit": frozenset({Role.clerk, Role.window, Role.dispatcher, Role.sysadmin}),
    "enterprise.reveal_mobile": CASE_ROLES - {Role.leader},
    "enterprise.import": frozenset({Role.sysadmin}),
    # Enterprise accounts (企业用户): station, point and window clerks create them (an activation code for a
    # contact) and disable them; every case worker sees the list on the enterprise page.
    "enterprise.accounts": frozenset({Role.clerk, Role.window}),
    "unit.manage": frozenset({Role.sysadmin}),
    "user.manage": frozenset({Role.sysadmin}),
    # 三员分立: the security admin grants roles and unlocks accounts; the sysadmin cannot.
    "user.roles": frozenset({Role.secadmin}),
    "user.unlock": frozenset({Role.secadmin}),
    "audit.view": frozenset({Role.auditor}),
    # Appeals (诉求)
    "appeal.create": frozenset({Role.clerk, Role.window, Role.dispatcher}),
    "appeal.list": CASE_ROLES,
    "appeal.dispatch": frozenset({Role.dispatcher}),
    "appeal.supervise": frozenset({Role.dispatcher}),
    "appeal.decide_extension": frozenset({Role.dispatcher}),
    "inbox.view": DEPARTMENT_ROLES,
    "appeal.sign": DEPARTMENT_ROLES,
    "appeal.return": DEPARTMENT_ROLES,
    "appeal.extend": DEPARTMENT_ROLES,
    "appeal.reply": DEPARTMENT_ROLES,
    "appeal.opinion": DEPARTMENT_ROLES,
    "appeal.assign": frozenset({Role.dept_lead}),
    "appeal.note": CASE_ROLES - {Role.leader},
    "appeal.follow_up": frozenset({Role.clerk, Role.window, Role.dispatcher}),
    "appeal.withdraw": frozenset({Role.clerk, Role.window, Role.dispatcher}),
    # 并案: the dispatcher, or the lead department, closes a duplicate into another appeal.
    "appeal.merge": frozenset({Role.dispatcher}) | DEPARTMENT_ROLES,
    # 常用语: a department's lead keeps its phrases; its staff insert them into replies and notes.
    "phrase.manage": frozenset({Role.dept_lead}),
    "phrase.use": DEPARTMENT_ROLES,
    # Policy applications (政策兑现申报)
    "application.create": frozenset({Role.clerk, Role.window}),
    "application.list": frozenset({Role.clerk, Role.window, Role.handler, Role.dept_lead, Role.leader}),
    "application.check": frozenset({Role.window}),
    "application.review": DEPARTMENT_ROLES,
    "application.disburse": DEPARTMENT_ROLES,
    "settings.manage": frozenset({Role.sysadmin}),
    # Background jobs: the system admin sees every job (failures with reasons, the integrity check) and
    # retries a failed one; anyone sees and downloads their own export.
    "jobs.manage": frozenset({Role.sysadmin}),
    # Policy catalogue (政策目录): everyone who works cases browses it; the sysadmin and the
    # responsible department's lead (for their own department's policies) maintain it.
    "policy.view": CASE_ROLES | {Role.sysadmin},
    "policy.manage": frozenset({Role.sysadmin, Role.dept_lead}),
    # Salons (高新沙龙): every case worker sees them; the organising department's lead and the dispatcher
    # run them; counter staff enter appeals at the tables.
    "salon.view": CASE_ROLES,
    "salon.manage": frozenset({Role.dept_lead, Role.dispatcher}),
    "salon.enter": frozenset({Role.clerk, Role.window, Role.dispatcher}),
    # The zone's figures: leaders and the dispatcher see every department, a department lead their own.
    "figures.view": frozenset({Role.leader, Role.dispatcher, Role.dept_lead}),
    "figures.all_departments": frozenset({Role.leader, Role.dispatcher}),
}


def can(user, action, obj=None):
    """May `user` perform `action` (on `obj`)? Unknown actions are refused."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    allowed = ROLE_PERMISSIONS.get(action)
    if allowed is None or not user.has_role(*allowed):
        return False
    subject_check = SUBJECT_CHECKS.get(action)
    if subject_check and not subject_check(user):
        return False
    check = OBJECT_CHECKS.get(action)
    return check(user, obj) if (check and obj is not None) else True


def _user_manageable_by_sysadmin(user, target):
    # The system admin may not touch the accounts of the three admins (that is the security admin's job).
    return not target.has_role(Role.sysadmin, Role.secadmin, Role.auditor) or target.id == user.id


def _roles_manageable(user, target):
    # Nobody grants roles to themselves.
    return target.id != user.id


def _in_lead_unit(user, appeal):
    return appeal.lead_unit_id is not None and appeal.lead_unit_id == user.unit_id


def _assign_in_lead_unit(user, appeal):
    return _in_lead_unit(user, appeal) and appeal.state == AppealState.in_progress


def _co_handler_pending(user, appeal):
    return any(c.unit_id == user.unit_id and c.opinion_at is None for c in appeal.co_handlers)


def _recorded_here_or_dispatcher(user, appeal):
    return user.has_role(Role.dispatcher) or appeal.recording_unit_id == user.unit_id


def _dispatcher_or_lead_unit(user, appeal):
    return user.has_role(Role.dispatcher) or _in_lead_unit(user, appeal)


def _manages_policy(user, policy):
    return user.has_role(Role.sysadmin) or policy.department_id == user.unit_id


#: action → extra check on the object, after the role check passed.
OBJECT_CHECKS = {
    "policy.manage": _manages_policy,
    "user.manage": _user_manageable_by_sysadmin,
    "user.roles": _roles_manageable,
    "appeal.sign": _in_lead_unit,
    "appeal.return": _in_lead_unit,
    "appeal.extend": _in_lead_unit,
    "appeal.reply": _in_lead_unit,
    "appeal.assign": _assign_in_lead_unit,
    "appeal.opinion": _co_handler_pending,
    "appeal.follow_up": _recorded_here_or_dispatcher,
    "appeal.withdraw": _recorded_here_or_dispatcher,
    "appeal.merge": _dispatcher_or_lead_unit,
    "phrase.manage": lambda user, phrase: phrase.unit_id == user.unit_id,
    "application.create": lambda user, application: application.intake_unit_id == user.unit_id,
    "application.review": lambda user, application: application.department_id == user.unit_id,
    "salon.enter": lambda user, salon: _salon_takes_entries(user, salon),
}


class Denied(Forbidden):
    """403 for an action the user may not take; the error handler audits it after rolling back the
    request's pending work (a refusal is written down, never committed along with half a request)."""

    def __init__(self, action, object_type=None, object_id=None):
        super().__init__()
        self.action, self.object_type, self.object_id = action, object_type, object_id


class NotVisible(NotFound):
    """404 for an existing object outside the user's sight (越权尝试); audited like Denied."""

    def __init__(self, action, object_type, object_id):
        super().__init__()
        self.action, self.object_type, self.object_id = action, object_type, object_id


def require(action, obj=None):
    """Raise Denied (a 403, audited) unless the current user may perform `action` (on `obj`)."""
    if not can(current_user, action, obj):
        raise Denied(action, type(obj).__name__ if obj is not None else None,
                     getattr(obj, "id", None) if obj is not None else None)


def visible_enterprises(user):
    """The enterprises `user` may open: the whole registry for case-working staff, none otherwise."""
    query = select(Enterprise)
    if not can(user, "enterprise.view"):
        return query.where(False)
    return query


def visible_appeals(user):
    """The appeals `user` may see: all for the dispatcher and leaders, the lead or co-handling
    department's own, the recording unit's own; nothing for anyone else."""
    from sqlalchemy import exists, or_

    from .models import Appeal, AppealCoHandler

    query = select(Appeal)
    if not can(user, "appeal.list"):
        return query.where(False)
    if user.has_role(Role.dispatcher, Role.leader):
        return query
    conditions = []
    if user.has_role(*DEPARTMENT_ROLES):
        conditions.append(Appeal.lead_unit_id == user.unit_id)
        conditions.append(exists().where(AppealCoHandler.appeal_id == Appeal.id, AppealCoHandler.unit_id == user.unit_id))
    if user.has_role(Role.clerk, Role.window):
        conditions.append(Appeal.recording_unit_id == user.unit_id)
    return query.where(or_(*conditions)) if conditions else query.where(False)


def visible_policies(user):
    """The policies `user` may open: active ones for case-working staff; inactive ones too for
    whoever may manage them (the sysadmin all, a department lead their department's)."""
    from sqlalchemy import or_

    from .models import Policy

    query = select(Policy)
    if not can(user, "policy.view"):
        return query.where(False)
    if user.has_role(Role.sysadmin):
        return query
    if can(user, "policy.manage"):
        return query.where(or_(Policy.active.is_(True), Policy.department_id == user.unit_id))
    return query.where(Policy.active.is_(True))


def manageable_departments(user):
    """The departments `user` may make responsible for a policy: any active one for the sysadmin,
    the lead's own department for a department lead, none otherwise."""
    from .models import Unit, UnitKind

    query = select(Unit).where(Unit.kind == UnitKind.department.value, Unit.active.is_(True))
    if not can(user, "policy.manage"):
        return query.where(False)
    if user.has_role(Role.sysadmin):
        return query
    return query.where(Unit.id == user.unit_id)


def get_visible_or_404(query, object_id, model, action="view"):
    """Load one object through a visibility query; 404 for what the user may not see, raised as
    NotVisible (audited) when the object exists, so that probing other units' ids leaves a trace."""
    obj = db.session.scalar(query.where(model.id == object_id))
    if obj is None:
        if db.session.scalar(select(model.id).where(model.id == object_id)) is not None:
            raise NotVisible(f"{model.__name__.lower()}.{action}", model.__name__, object_id)
        abort(404)
    return obj


#: Permission → the workflow action it performs; a button shows when both allow it.
APPEAL_ACTION_PERMISSIONS = {
    "appeal.dispatch": "dispatch",
    "appeal.sign": "sign",
    "appeal.return": "return",
    "appeal.assign": "assign",
    "appeal.note": "note",
    "appeal.extend": "extend_request",
    "appeal.supervise": "supervise",
    "appeal.opinion": "co_opinion",
    "appeal.reply": "reply",
    "appeal.follow_up": "follow_up_satisfied",
    "appeal.withdraw": "withdraw",
    "appeal.merge": "merge",
}


def appeal_actions_for(user, appeal):
    """The permission names of the actions `user` may take on `appeal` in its current state."""
    from .workflow import appeal_actions

    allowed = {a.value for a in appeal_actions(appeal.state)}
    return {
        permission for permission, action in APPEAL_ACTION_PERMISSIONS.items()
        if action in allowed and can(user, permission, appeal)
    }


#: action → extra check on the user alone (their unit), applied with or without an object.
SUBJECT_CHECKS = {
    # Only the unit configured as the paying unit (财政金融局) pays out policy money.
    "application.disburse": lambda user: bool(user.unit.is_paying_unit),
    "salon.manage": lambda user: _organises_salons(user),
}


def salon_organiser_name():
    """The organising department's unit name: GAOXIN_SALON_ORGANISER, default the article's 经济运行局."""
    from flask import current_app

    return current_app.config.get("GAOXIN_SALON_ORGANISER") or "经济运行局"


def _organises_salons(user):
    # The dispatcher, or a lead of the configured organising department.
    return user.has_role(Role.dispatcher) or (user.unit is not None and user.unit.name == salon_organiser_name())


def _salon_takes_entries(user, salon):
    return salon.state.value in ("open", "held")


def visible_applications(user):
    """The policy applications `user` may see: all for the window and leaders; the intake unit's own;
    a department's policies' (drafts excepted); approved ones for the paying unit; nothing otherwise."""
    from sqlalchemy import or_

    from .models import Application

    query = select(Application)
    if not can(user, "application.list"):
        return query.where(False)
    if user.has_role(Role.window, Role.leader):
        return query
    conditions = []
    if user.has_role(Role.clerk):
        conditions.append(Application.intake_unit_id == user.unit_id)
    if user.has_role(*DEPARTMENT_ROLES):
        conditions.append((Application.department_id == user.unit_id) & (Application.state != ApplicationState.draft))
        if user.unit.is_paying_unit:
            conditions.append(Application.outcome == ApplicationOutcome.approved)
    return query.where(or_(*conditions)) if conditions else query.where(False)


#: (permission, UI action, workflow actions it performs): the UI action shows when both allow it.
APPLICATION_ACTION_PERMISSIONS = [
    ("application.create", "edit", {"submit"}),
    ("application.check", "check", {"accept", "supplement", "refuse"}),
    ("application.check", "materials", {"accept", "resubmit"}),
    ("application.check", "resubmit", {"resubmit"}),
    ("application.review", "review", {"approve", "reject", "back_to_supplement"}),
    ("application.check", "issue_result", {"issue_result"}),
    ("application.disburse", "disburse", {"disburse"}),
]


def application_actions_for(user, application):
    """The UI actions (edit, check, materials, resubmit, review, issue_result, disburse) `user` may take
    on `application` in its current state."""
    from .workflow import application_actions

    allowed = {a.value for a in application_actions(application.state, approved=application.outcome == ApplicationOutcome.approved)}
    return {
        name for permission, name, actions in APPLICATION_ACTION_PERMISSIONS
        if allowed & actions and can(user, permission, application)
    }
