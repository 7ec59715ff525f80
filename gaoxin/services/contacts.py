"""An enterprise's contacts edited and removed by staff, keeping who was the contact on each case.

A contact row is never rewritten: an edit retires the row (removed_at, replaced_by_id) and adds the
corrected one, so that a case recorded with the old row still shows the name and mobile it was recorded
with; a removal retires the row alone. Retired rows drop out of `Enterprise.contacts` (what intake offers).
The contact's portal account (and its unused activation codes) follows the person to the corrected row;
a removed contact's account is disabled, ending its sessions. Both check the version the user saw
(StaleContact) and are audited; they flush, never commit.
"""
from sqlalchemy import select, update as sql_update
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import ActivationCode, Contact, utcnow
from . import audit, portal_accounts

#: The fields staff edit, with their Chinese names (audit details).
FIELDS = {"name": "姓名", "mobile": "手机号码", "title": "职务"}


class StaleContact(Exception):
    """The contact changed (or was removed) since the form was loaded: nothing is overwritten."""

    def __init__(self):
        super().__init__("该联系人已被他人修改或移除，请查看最新信息后再操作。")


def current_contact(enterprise, contact_id):
    """A contact of this enterprise still on file, or None (a removed one is not edited again)."""
    return db.session.scalar(select(Contact).where(
        Contact.id == contact_id, Contact.enterprise_id == enterprise.id, Contact.removed_at.is_(None)))


def latest(contact):
    """The row that now stands for `contact` (following edits), or None when it was removed."""
    while contact is not None and contact.removed_at is not None:
        contact = db.session.get(Contact, contact.replaced_by_id) if contact.replaced_by_id else None
    return contact


def removed_contacts(enterprise):
    """The enterprise's removed contacts (not those replaced by an edit), newest removal first."""
    return list(db.session.scalars(select(Contact).where(
        Contact.enterprise_id == enterprise.id, Contact.removed_at.is_not(None), Contact.replaced_by_id.is_(None))
        .order_by(Contact.removed_at.desc(), Contact.id.desc())))


def _retire(contact, seen_version, replaced_by=None):
    """Stamp the row removed at the version the user saw; a concurrent edit or removal loses here."""
    if seen_version is None or int(seen_version) != contact.version or contact.removed_at is not None:
        raise StaleContact()
    contact.removed_at = utcnow()
    contact.replaced_by_id = replaced_by.id if replaced_by is not None else None
    try:
        # The version column makes this UPDATE … WHERE version = seen.
        db.session.flush()
    except StaleDataError as exc:
        raise StaleContact() from exc


def update(enterprise, contact, *, name, mobile, title, seen_version, user):
    """`user` corrects a contact: the corrected row replaces it from now on; returns it (the same row when
    nothing changed). Raises StaleContact."""
    values = {"name": name, "mobile": mobile or None, "title": title or None}
    changed = [f for f, v in values.items() if getattr(contact, f) != v]
    if not changed:
        if seen_version is None or int(seen_version) != contact.version:
            raise StaleContact()
        return contact
    new = Contact(enterprise_id=enterprise.id, **values)
    db.session.add(new)
    db.session.flush()
    _retire(contact, seen_version, replaced_by=new)
    account = portal_accounts.account_for_contact(contact)
    if account is not None:
        account.contact_id = new.id
    db.session.execute(sql_update(ActivationCode).where(ActivationCode.contact_id == contact.id,
                                                        ActivationCode.used_at.is_(None)).values(contact_id=new.id))
    audit.record("contact_updated", new, user=user,
                 detail=f"{enterprise.name} · {contact.name}：修改" + "、".join(FIELDS[f] for f in changed))
    return new


def remove(enterprise, contact, *, seen_version, user):
    """Remove a contact: no longer offered at intake; the cases recorded with it keep naming it."""
    _retire(contact, seen_version)
    account = portal_accounts.account_for_contact(contact)
    if account is not None:
        portal_accounts.set_active(account, False, user)
    audit.record("contact_removed", contact, user=user, detail=f"{enterprise.name} · {contact.name}")

