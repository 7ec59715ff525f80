"""Intake rules both counters share (appeals and policy applications): which enterprise a form names —
picked, found by what was typed, or registered on the spot — and which contact.

Nothing here reads the request or a form: callers pass the values and get back what was found and a
{form field: Chinese message} dict of what was wrong, so that one submission can report every mistake.
"""
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from ..extensions import db
from ..models import Contact, Enterprise
from ..permissions import can, visible_enterprises
from ..registry_text import CreditCodeError, mask_mobile, normalize_credit_code, validate_mobile
from . import audit
from .enterprises import search as search_enterprises
from .enterprises import upsert_rows


@dataclass
class EnterprisePick:
    """The enterprise an intake form names, or the candidates to choose from, and what was wrong."""

    enterprise: Enterprise | None = None
    candidates: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)


def visible_enterprise(user, enterprise_id):
    """The enterprise with this id if `user` may open it, else None. Its contacts are read when first used
    (the contact list, a contact picked by id), not with it: an intake naming a new contact never needs them."""
    if not enterprise_id:
        return None
    return db.session.scalar(visible_enterprises(user).where(Enterprise.id == enterprise_id)
                             .options(lazyload(Enterprise.contacts)))


def pick_enterprise(user, *, enterprise_id=None, query="", new_name="", new_code="", audit_detail):
    """Find or register the enterprise an intake form names: the one picked, else a new one from name and
    credit code, else the single match of what was typed (several matches come back as candidates)."""
    enterprise = visible_enterprise(user, enterprise_id)
    if enterprise is not None:
        return EnterprisePick(enterprise)
    if new_code or new_name:
        return _register(user, (new_name or "").strip(), new_code or "", audit_detail)
    query = (query or "").strip()
    if not query:
        return EnterprisePick(errors={"enterprise_query": "请选择企业，或在下方登记新企业。"})
    candidates = search_enterprises(query, limit=10)
    exact = [e for e in candidates if e.name == query or e.credit_code == query.upper()]
    if len(exact) == 1 or len(candidates) == 1:
        return EnterprisePick((exact or candidates)[0])
    if not candidates:
        return EnterprisePick(errors={"enterprise_query": "档案中没有找到该企业，请核对，或在下方登记新企业。"})
    return EnterprisePick(candidates=candidates, errors={"enterprise_query": "找到多家企业，请在下面选择一家。"})


def _register(user, name, raw_code, audit_detail):
    """Register an enterprise on the spot from its name and a valid credit code (an existing code
    finds the enterprise already in the registry)."""
    if not can(user, "enterprise.create"):
        return EnterprisePick(errors={"new_enterprise_name": "您无权登记新企业。"})
    errors = {} if name else {"new_enterprise_name": "请填写企业名称。"}
    try:
        code = normalize_credit_code(raw_code)
    except CreditCodeError as exc:
        return EnterprisePick(errors={**errors, "new_credit_code": str(exc)})
    existing = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    if existing is not None:
        if name and _same_name(name, existing.name):
            return EnterprisePick(existing)
        if not name:
            return EnterprisePick(existing)
        # Never file the case under another name without saying so: show the registry's entry, to be picked
        # (it becomes the one candidate) or the code corrected.
        return EnterprisePick(candidates=[existing], errors={
            "new_credit_code": f"该统一社会信用代码已在档案中登记为“{existing.name}”。如确为该企业，请在上方选中它后提交；"
                               "如不是，请更正信用代码。"})
    if errors:
        return EnterprisePick(errors=errors)
    upsert_rows([{"credit_code": code, "name": name}])
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    audit.record("enterprise_created", enterprise, user=user, detail=audit_detail)
    return EnterprisePick(enterprise)


def _same_name(typed, registered):
    """The typed name is the registry's, give or take spaces and full-width brackets."""
    def key(value):
        return "".join(value.split()).replace("（", "(").replace("）", ")")
    return key(typed) == key(registered)


def usual_contact(enterprise):
    """The contact to preselect for a new case: the one of the enterprise's latest appeal that named a
    contact (still on file), else the first contact with a mobile, else the first; None without contacts."""
    from ..models import Appeal

    if enterprise is None or not enterprise.contacts:
        return None
    last = db.session.scalar(
        select(Appeal.contact_id).where(Appeal.enterprise_id == enterprise.id, Appeal.contact_id.is_not(None))
        .order_by(Appeal.created_at.desc(), Appeal.id.desc()).limit(1))
    by_id = {c.id: c for c in enterprise.contacts}
    if last in by_id:
        return by_id[last]
    return next((c for c in enterprise.contacts if c.mobile), enterprise.contacts[0])


def pick_contact(enterprise, *, contact_id=None, name="", mobile=""):
    """(contact, errors): the enterprise's contact picked, or a new one added from name and mobile;
    (None, {}) when the form names none."""
    if contact_id:
        contact = next((c for c in enterprise.contacts if c.id == contact_id), None)
        return contact, ({} if contact else {"contact_id": "请选择该企业的联系人。"})
    name = (name or "").strip()
    if not name and not mobile:
        return None, {}
    if not name:
        return None, {"contact_name": "请填写联系人姓名。"}
    if mobile:
        try:
            mobile = validate_mobile(mobile)
        except ValueError as exc:
            return None, {"contact_mobile": str(exc)}
    contact = Contact(enterprise_id=enterprise.id, name=name, mobile=mobile or None)
    db.session.add(contact)
    return contact, {}


def contact_choices(enterprise, blank="新联系人（在下方填写）"):
    """The contact select's options for an enterprise: the blank choice ("" — never the text "None"), then
    name and masked mobile."""
    contacts = enterprise.contacts if enterprise else []
    return [("", blank)] + [(c.id, f"{c.name} {mask_mobile(c.mobile) if c.mobile else '（无手机号）'}")
                              for c in contacts]
