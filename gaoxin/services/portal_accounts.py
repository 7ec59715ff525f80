"""Enterprise accounts: log-in with lock-out, server-side portal sessions, activation codes, creating and
disabling accounts, password changes; raises LoginRefused and cases.InputError."""
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Enterprise, utcnow
from ..models.portal import (
    CODE_VALIDITY, ActivationCode, EnterpriseAccount, EnterpriseSession, hash_code, new_code, normalise_code,
)
from .accounts import BAD_CREDENTIALS, LoginRefused, admit, end_all_sessions, password_matches
from .audit import record
from .cases import InputError

#: One answer for an unknown code, so that codes cannot be probed one by one.
CODE_UNKNOWN = "激活码不正确，请核对回执或通知书上打印的激活码。"
CODE_USED = "该激活码已经使用过，不能再次使用。如需重新设置密码，请向服务站或窗口申请新的激活码。"
CODE_EXPIRED = "该激活码已过期（有效期30天），请向服务站或窗口申请新的激活码。"
CODE_OTHER_ENTERPRISE = "该激活码不属于此统一社会信用代码对应的企业，请核对企业信用代码。"
ACCOUNT_DISABLED = "该企业账号已停用，请联系服务站或窗口。"


def find_account(login_name):
    """The account with this log-in name (case-insensitive), or None."""
    name = (login_name or "").strip().lower()
    if not name:
        return None
    return db.session.scalar(select(EnterpriseAccount).where(func.lower(EnterpriseAccount.login_name) == name))


def authenticate(login_name, password, *, ip=None, user_agent=None):
    """Check the credentials and open an EnterpriseSession; raises LoginRefused.

    The same rules as staff log-in (services.accounts.authenticate): one hash check for every attempt, one
    message for an unknown name and a wrong password, 5 wrong passwords lock for 15 minutes, the lock told
    only with the right password.
    """
    account = find_account(login_name)
    now = utcnow()
    usable = account if account is not None and account.password_hash else None
    matches = password_matches(usable, password)
    if usable is None:
        record("portal_login_failed", result="failed", username=f"企业:{(login_name or '').strip()[:40]}",
               detail="unknown account")
        raise LoginRefused(BAD_CREDENTIALS)
    admit(account, matches, now, disabled_message=ACCOUNT_DISABLED, audit_prefix="portal_")
    account.login_session = open_session(account, ip=ip, user_agent=user_agent)
    record("portal_login", account, user=account)
    return account


def open_session(account, *, ip=None, user_agent=None):
    login_session = EnterpriseSession(account_id=account.id, ip=ip, user_agent=(user_agent or "")[:500])
    db.session.add(login_session)
    db.session.flush()
    return login_session


# Activation codes ----------------------------------------------------------------------------------


def account_for_contact(contact):
    return db.session.scalar(select(EnterpriseAccount).where(EnterpriseAccount.contact_id == contact.id))


def issue_code(contact, clerk):
    """A new one-time code for `contact` (valid 30 days); returns the plain code, which is never stored.

    Creates the contact's account (not yet activated) if it has none; refuses a disabled account."""
    account = account_for_contact(contact)
    if account is not None and not account.active:
        raise InputError(f"{contact.name}的企业账号已停用，请先启用后再生成激活码。", field="contact")
    if account is None:
        account = EnterpriseAccount(enterprise_id=contact.enterprise_id, contact_id=contact.id,
                                    created_by_id=clerk.id if clerk else None)
        db.session.add(account)
        db.session.flush()
        record("portal_account_created", account, user=clerk, detail=f"contact {contact.id}")
    code = new_code()
    now = utcnow()
    db.session.add(ActivationCode(
        code_hash=hash_code(code), enterprise_id=contact.enterprise_id, contact_id=contact.id,
        created_at=now, expires_at=now + CODE_VALIDITY, created_by_id=clerk.id if clerk else None,
    ))
    db.session.flush()
    record("portal_code_issued", account, user=clerk, detail=f"contact {contact.id}")
    return code


def find_code(text):
    code = normalise_code(text)
    if not code:
        return None
    return db.session.scalar(select(ActivationCode).where(ActivationCode.code_hash == hash_code(code)))


def activate(credit_code, code_text, login_name, password, *, ip=None, user_agent=None):
    """Use a printed code: set the contact's log-in name and password and log in; raises InputError with
    the field at fault (code, credit_code, login_name, password). Nothing changes on a refusal but the audit."""
    from ..registry_text import CreditCodeError, normalize_credit_code

    code = find_code(code_text)
    now = utcnow()
    if code is None:
        _refuse_activation("unknown code", "code", CODE_UNKNOWN)
    enterprise = db.session.get(Enterprise, code.enterprise_id)
    try:
        typed_credit = normalize_credit_code(credit_code or "")
    except CreditCodeError as exc:
        raise InputError(str(exc), field="credit_code") from None
    if enterprise is None or typed_credit != enterprise.credit_code:
        _refuse_activation(f"code {code.id} for another enterprise", "credit_code", CODE_OTHER_ENTERPRISE)
    if code.used_at is not None:
        _refuse_activation(f"code {code.id} used", "code", CODE_USED)
    if code.is_expired(now):
        _refuse_activation(f"code {code.id} expired", "code", CODE_EXPIRED)
    account = account_for_contact(code.contact) or EnterpriseAccount(
        enterprise_id=code.enterprise_id, contact_id=code.contact_id)
    if account.id is not None and not account.active:
        _refuse_activation(f"code {code.id}: account disabled", "code", ACCOUNT_DISABLED)
    name = (login_name or "").strip()
    other = find_account(name)
    if other is not None and other.id != account.id:
        raise InputError("该登录名已被使用，请换一个。", field="login_name")
    if account.password_hash and account.check_password(password):
        raise InputError("新密码不能与当前密码相同。", field="password")
    if account.id is None:
        db.session.add(account)
    account.login_name = name.lower()
    account.set_password(password)
    account.password_changed_at = now
    account.activated_at = account.activated_at or now
    account.failed_logins = 0
    account.locked_until = None
    db.session.flush()
    # The rule is "single use" even under a double submit: only the request whose UPDATE finds the code
    # still unused goes on; the other one is told the code is used.
    used = db.session.execute(update(ActivationCode).where(ActivationCode.id == code.id, ActivationCode.used_at.is_(None))
                              .values(used_at=now, account_id=account.id))
    if used.rowcount != 1:
        db.session.rollback()
        raise InputError(CODE_USED, field="code")
    end_all_sessions(account)
    record("portal_activated", account, user=account, detail=f"code {code.id}")
    account.last_login_at = now
    account.login_session = open_session(account, ip=ip, user_agent=user_agent)
    record("portal_login", account, user=account, detail="after activation")
    return account


def _refuse_activation(detail, field, message):
    """Write the refusal down on its own (nothing else is pending) and raise InputError."""
    db.session.rollback()
    record("portal_activation_failed", result="failed", username="企业:激活", detail=detail)
    db.session.commit()
    raise InputError(message, field=field)


# Staff side ----------------------------------------------------------------------------------------


def accounts_of(enterprise):
    """The enterprise's accounts with their contacts, oldest first (the enterprise page)."""
    return db.session.scalars(select(EnterpriseAccount).where(EnterpriseAccount.enterprise_id == enterprise.id)
                              .order_by(EnterpriseAccount.id)).all()


def set_active(account, active, clerk):
    """Disable (ending every portal session of the account at once) or enable an account again."""
    if account.active == active:
        return
    account.active = active
    account.disabled_at = None if active else utcnow()
    account.disabled_by_id = None if active else clerk.id
    if not active:
        end_all_sessions(account)
    record("portal_account_enabled" if active else "portal_account_disabled", account, user=clerk)


def change_password(account, current, new, keep_session=None):
    """The account changes its own password; every other portal session of it ends. Raises InputError."""
    if not account.check_password(current):
        raise InputError("当前密码不正确。", field="current")
    if account.check_password(new):
        raise InputError("新密码不能与当前密码相同。", field="new")
    account.set_password(new)
    account.password_changed_at = utcnow()
    end_all_sessions(account, keep=keep_session)
    db.session.flush()
    record("portal_password_changed", account, user=account)
