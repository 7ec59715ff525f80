"""The staff side of enterprise accounts, on the enterprise page: print an activation code for a contact
(creating the contact's account), disable or enable an account."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Contact, EnterpriseAccount
from ..permissions import require
from ..services import portal_accounts
from ..services.cases import InputError
from .enterprises import _get_enterprise

bp = Blueprint("enterprise_accounts", __name__, url_prefix="/enterprises/<int:enterprise_id>/accounts")


@bp.app_template_global()
def enterprise_accounts(enterprise):
    """The enterprise's accounts for its page (one query)."""
    return portal_accounts.accounts_of(enterprise)


def _load(model, enterprise, object_id):
    obj = db.session.get(model, object_id) if object_id else None
    if obj is None or obj.enterprise_id != enterprise.id or getattr(obj, "is_removed", False):
        abort(404)
    return obj


@bp.post("/code")
@login_required
def issue_code(enterprise_id):
    """Print a one-time activation code (30 days) for one current contact; the code is shown only on this page."""
    enterprise = _get_enterprise(enterprise_id)
    require("enterprise.accounts", enterprise)
    contact = _load(Contact, enterprise, request.form.get("contact_id", type=int))
    try:
        code = portal_accounts.issue_code(contact, current_user)
    except InputError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("enterprises.show", enterprise_id=enterprise.id))
    db.session.commit()
    return render_template("enterprise_accounts/code.html", enterprise=enterprise, contact=contact, code=code,
                           valid_days=portal_accounts.CODE_VALIDITY.days)


@bp.post("/<int:account_id>/<any(disable, enable):change>")
@login_required
def set_active(enterprise_id, account_id, change):
    """Disable an account (its sessions end at once) or enable it again."""
    enterprise = _get_enterprise(enterprise_id)
    require("enterprise.accounts", enterprise)
    account = _load(EnterpriseAccount, enterprise, account_id)
    portal_accounts.set_active(account, change == "enable", current_user)
    db.session.commit()
    flash(f"已{'启用' if change == 'enable' else '停用'}{account.contact.name}的企业账号。", "success")
    return redirect(url_for("enterprises.show", enterprise_id=enterprise.id) + "#accounts-heading")
