"""Messages to an enterprise: written by services.cases for the changes an enterprise should hear about,
in the same transaction as the change; listed, counted and marked read for the enterprise portal."""
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Appeal, Application, MessageKind, PortalMessage, utcnow
from .pages import fetch_page

#: (case type, timeline action) → the message it sends; every other event stays on the timeline only.
KIND_OF_EVENT = {
    (Appeal, "sign"): MessageKind.signed,
    (Appeal, "reply"): MessageKind.replied,
    (Application, "supplement"): MessageKind.supplement,
    (Application, "back_to_supplement"): MessageKind.supplement,
    (Application, "accept"): MessageKind.accepted,
    (Application, "issue_result"): MessageKind.result,
    (Application, "refuse"): MessageKind.refused,
}
#: Unread counts above this show as "99+": the count stops there.
UNREAD_CAP = 99


def on_event(case, action, public_text):
    """Add the enterprise's message for a timeline event, when the event is one it should hear about."""
    kind = KIND_OF_EVENT.get((type(case), action))
    if kind is None or not public_text:
        return None
    message = PortalMessage(
        enterprise_id=case.enterprise_id, kind=kind.value, text=public_text, receipt_no=case.receipt_no,
        **({"appeal_id": case.id} if isinstance(case, Appeal) else {"application_id": case.id}))
    db.session.add(message)
    return message


def unread_count(enterprise_id):
    """How many messages the enterprise has not seen yet, counted up to UNREAD_CAP + 1."""
    unread = select(PortalMessage.id).where(PortalMessage.enterprise_id == enterprise_id,
                                            PortalMessage.read_at.is_(None)).limit(UNREAD_CAP + 1)
    return db.session.scalar(select(func.count()).select_from(unread.subquery()))


def page(enterprise_id, page_no=1):
    """One page of the enterprise's messages, newest first; (messages, has_next)."""
    query = select(PortalMessage).where(PortalMessage.enterprise_id == enterprise_id) \
        .order_by(PortalMessage.id.desc())
    return fetch_page(query, page_no)


def mark_read(enterprise_id, messages):
    """Mark the messages just shown as read (only the enterprise's own, only once)."""
    ids = [m.id for m in messages if m.read_at is None]
    if not ids:
        return 0
    now = utcnow()
    result = db.session.execute(
        update(PortalMessage).where(PortalMessage.enterprise_id == enterprise_id, PortalMessage.id.in_(ids),
                                    PortalMessage.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session=False))
    return result.rowcount
