"""What the appeal and application pages share: picking the enterprise and contact at intake,
committing an action that may race another user, and sending a verified attachment."""
from flask import abort, send_file
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import Attachment, Contact, Enterprise
from ..permissions import can, visible_enterprises
from ..registry_text import CreditCodeError, normalize_credit_code, validate_mobile
from ..services import files
from ..services.audit import record as audit
from ..services.enterprises import search as search_enterprises
from ..services.enterprises import upsert_rows
from ..workflow import WorkflowError


def resolve_enterprise(form, *, audit_detail):
    """Find or register the enterprise the form names; returns (enterprise, candidates)."""
    if form.enterprise_id.data:
        enterprise = db.session.scalar(visible_enterprises(current_user).where(Enterprise.id == form.enterprise_id.data))
        if enterprise:
            return enterprise, []
    if form.new_credit_code.data or form.new_enterprise_name.data:
        return _register_enterprise(form, audit_detail), []
    query = (form.enterprise_query.data or "").strip()
    if not query:
        form.enterprise_query.errors.append("请选择企业，或在下方登记新企业。")
        return None, []
    candidates = search_enterprises(query, limit=10)
    exact = [e for e in candidates if e.name == query or e.credit_code == query.upper()]
    if len(exact) == 1 or len(candidates) == 1:
        return (exact or candidates)[0], []
    if not candidates:
        form.enterprise_query.errors.append("档案中没有找到该企业，请核对，或在下方登记新企业。")
    else:
        form.enterprise_query.errors.append("找到多家企业，请在下面选择一家。")
    return None, candidates


def _register_enterprise(form, audit_detail):
    """Register an enterprise on the spot from its name and a valid credit code."""
    if not can(current_user, "enterprise.create"):
        form.new_enterprise_name.errors.append("您无权登记新企业。")
        return None
    name = (form.new_enterprise_name.data or "").strip()
    if not name:
        form.new_enterprise_name.errors.append("请填写企业名称。")
    try:
        code = normalize_credit_code(form.new_credit_code.data or "")
    except CreditCodeError as exc:
        form.new_credit_code.errors.append(str(exc))
        return None
    existing = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    if existing is not None:
        return existing
    if not name:
        return None
    upsert_rows([{"credit_code": code, "name": name}])
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    audit("enterprise_created", enterprise, detail=audit_detail)
    return enterprise


def resolve_contact(form, enterprise):
    """The contact picked in the form, or a new one typed in (validated); None if none given."""
    if form.contact_id.data:
        contact = next((c for c in enterprise.contacts if c.id == form.contact_id.data), None)
        if contact is None:
            form.contact_id.errors.append("请选择该企业的联系人。")
        return contact
    name = (form.contact_name.data or "").strip()
    if not name and not form.contact_mobile.data:
        return None
    if not name:
        form.contact_name.errors.append("请填写联系人姓名。")
        return None
    mobile = None
    if form.contact_mobile.data:
        try:
            mobile = validate_mobile(form.contact_mobile.data)
        except ValueError as exc:
            form.contact_mobile.errors.append(str(exc))
            return None
    contact = Contact(enterprise_id=enterprise.id, name=name, mobile=mobile)
    db.session.add(contact)
    return contact


def commit_once_more_if_stale(operation, form, stale_message):
    """Run and commit; if someone else committed first, run again on their version so that the user
    is told why (the service then refuses with the reason, e.g. who signed), or told it is stale."""
    try:
        operation(form)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        try:
            operation(form)
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            raise WorkflowError(stale_message) from None




def send_attachment(owner_type, owner_id, attachment_id):
    """Send one attachment of a case the caller already loaded through its visibility query,
    after checking its SHA-256; 404 for a file of another case."""
    attachment = db.session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.owner_type == owner_type, Attachment.owner_id == owner_id))
    if attachment is None:
        abort(404)
    try:
        path = files.open_verified(attachment)
    except (files.FileRefused, FileNotFoundError):
        abort(500)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, max_age=0)
    response.headers["X-Content-SHA256"] = attachment.sha256
    return response
