"""What appeal and application operations share: bad-input errors, the version check, timeline events,
transitions and submission tokens.

Operations flush and add timeline events; they never commit. A transition refused by workflow.py, or a
form older than the case, raises WorkflowError (shown as a 409); bad input raises InputError (a 422).
"""
from sqlalchemy import select

from ..extensions import db
from ..models import Appeal, Application, Event, utcnow
from ..workflow import WorkflowError
from . import messages, rollups, work  # noqa: F401 - rollups keeps the dashboard's counts with every change

#: The timeline's foreign key for each kind of case.
_EVENT_OWNER = {Appeal: "appeal_id", Application: "application_id"}


class InputError(ValueError):
    """Bad input for an operation; `field` names the form field it belongs to, `item_errors` maps a
    checklist item (PolicyItem id) to its own message."""

    def __init__(self, message, field=None, item_errors=None):
        super().__init__(message)
        self.field = field
        self.item_errors = item_errors or {}


def check_version(case, expected_version, stale_message):
    """Refuse a form made from an older version of the case than the one in the database."""
    if expected_version is not None and int(expected_version) != case.version:
        raise WorkflowError(stale_message)


def add_event(case, actor, action, *, from_state=None, comment=None, public_text=None):
    """Add one timeline entry to an appeal or an application; `public_text` is what the enterprise sees.
    The changes the enterprise should hear about also leave it a message (services.messages), here, so that
    no operation can record one without the other."""
    event = Event(
        action=action, actor_id=actor.id if actor else None, actor_unit_id=actor.unit_id if actor else None,
        from_state=from_state, to_state=case.state, comment=comment, public=public_text is not None,
        public_text=public_text, **{_EVENT_OWNER[type(case)]: case.id},
    )
    db.session.add(event)
    messages.on_event(case, action, public_text)
    return event


def transition(case, actor, action, to_state, *, comment=None, public_text=None):
    """Move `case` to `to_state` (already allowed by workflow.py) and record the event."""
    before = case.state
    case.state = to_state.value
    case.updated_at = utcnow()
    if isinstance(case, Appeal):
        # The inboxes that show this appeal (now, and after the operation) get a new stamp at commit.
        work.touch(case)
    return add_event(case, actor, action.value, from_state=before, comment=comment, public_text=public_text)


def by_submission_token(model, token):
    """The case a form with this one-time token already created (double click, resubmission), or None."""
    if not token:
        return None
    return db.session.scalar(select(model).where(model.submission_token == token))

