"""Log-in, lockout, server-side sessions and the password policy over time; raises LoginRefused and PasswordRefused."""
from collections import namedtuple
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import String, and_, cast, delete, exists, func, select, update
from sqlalchemy.orm import aliased
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import AuditEntry, EnterpriseSession, UsedPassword, User, UserSession, utcnow
from .audit import record

#: 5 failed attempts lock the account for 15 minutes (等保 2.0 身份鉴别).
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
#: One message for an unknown user, a wrong password and a locked account given a wrong password,
#: so that neither the names nor the locks can be probed.
BAD_CREDENTIALS = "用户名或密码错误。"
#: A new password may not be the current one nor any of the user's last 5 (等保 身份鉴别: 口令复杂度与更换).
PASSWORD_HISTORY = 5
#: Default for GAOXIN_PASSWORD_MAX_AGE_DAYS.
DEFAULT_MAX_AGE_DAYS = 90


class LoginRefused(Exception):
    """The log-in was refused; str(exc) is the Chinese message for the user."""


class PasswordRefused(Exception):
    """A new password was refused by the policy; str(exc) is the Chinese message for the field."""


def _hash_method():
    return current_app.config.get("GAOXIN_PASSWORD_METHOD", "scrypt") if has_app_context() else "scrypt"


_DUMMY_HASHES = {}


def _dummy_hash():
    """A hash of nothing, made with the same method and cost as real ones (one per method, made once)."""
    method = _hash_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-password", method=method)
    return _DUMMY_HASHES[method]


def password_matches(user, password):
    """The one password hash check of a log-in: against a dummy hash when there is no such user."""
    return check_password_hash(user.password_hash if user is not None else _dummy_hash(), password or "")


def authenticate(username, password, *, ip=None, user_agent=None):
    """Check the credentials and open a UserSession; raises LoginRefused.

    Every attempt runs exactly one hash check first, so an unknown user, a wrong password and a locked
    account cost the same time and get the same answer; the lock is told only with the right password.
    """
    username = (username or "").strip()
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    now = utcnow()
    matches = password_matches(user, password)
    if user is None:
        record("login_failed", result="failed", username=username, detail="unknown user")
        raise LoginRefused(BAD_CREDENTIALS)
    admit(user, matches, now, disabled_message="该账号已停用，请联系系统管理员。")
    login_session = UserSession(user_id=user.id, ip=ip, user_agent=(user_agent or "")[:500])
    db.session.add(login_session)
    db.session.flush()
    user.login_session = login_session
    record("login", user, user=user)
    return user


def admit(person, matches, now, *, disabled_message, audit_prefix=""):
    """The log-in rules after the one hash check, for staff users and enterprise accounts alike: a wrong
    password counts (and may lock), a locked or disabled account is refused, else the counters reset.
    Raises LoginRefused; audits as `<audit_prefix>login_failed` / `<audit_prefix>lockout`."""
    if not matches:
        # Counted while locked too: guessing on during a lock only extends it.
        _count_failure(person, now, audit_prefix)
        raise LoginRefused(BAD_CREDENTIALS)
    if person.is_locked(now):
        record(f"{audit_prefix}login_failed", person, result="denied", user=person, detail="locked")
        raise LoginRefused(locked_message(person, now))
    if not person.active:
        record(f"{audit_prefix}login_failed", person, result="denied", user=person, detail="disabled")
        raise LoginRefused(disabled_message)
    person.failed_logins = 0
    person.locked_until = None
    person.last_login_at = now


def _count_failure(person, now, audit_prefix=""):
    # Counted with one UPDATE in the database so that several workers share the count.
    model = type(person)
    db.session.execute(update(model).where(model.id == person.id).values(failed_logins=model.failed_logins + 1))
    db.session.refresh(person, ["failed_logins"])
    detail = f"attempt {person.failed_logins}" + ("; locked" if person.is_locked(now) else "")
    record(f"{audit_prefix}login_failed", person, result="failed", user=person, detail=detail)
    if person.failed_logins >= MAX_FAILED_LOGINS:
        person.locked_until = now + LOCKOUT
        person.failed_logins = 0
        record(f"{audit_prefix}lockout", person, result="denied", user=person)


def locked_message(user, now):
    """The lock and its remaining minutes, for someone who gave the right password."""
    minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
    return f"登录失败次数过多，账号已锁定，请{minutes}分钟后再试。"


def end_session(login_session, reason="logout"):
    """Close a server-side session; its cookie is refused from now on."""
    if login_session is not None and login_session.ended_at is None:
        login_session.ended_at = utcnow()


def end_all_sessions(user, keep=None):
    """Close every open session of `user` (a staff User or an EnterpriseAccount) but `keep` (disabled
    account, password reset or change)."""
    if getattr(user, "is_enterprise", False):
        sessions, owner = EnterpriseSession, EnterpriseSession.account_id
    else:
        sessions, owner = UserSession, UserSession.user_id
    statement = update(sessions).where(owner == user.id, sessions.ended_at.is_(None))
    if keep is not None and keep.id is not None:
        statement = statement.where(sessions.id != keep.id)
    db.session.execute(statement.values(ended_at=utcnow()))


# Password policy over time -----------------------------------------------------------------------


def max_age_days():
    """GAOXIN_PASSWORD_MAX_AGE_DAYS (0: passwords do not expire)."""
    return current_app.config.get("GAOXIN_PASSWORD_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS)


def must_change_password(user, now=None):
    """Why `user` must change the password before anything else: 'initial', 'reset', 'expired' or None."""
    if user.must_change_password:
        return "reset" if user.password_reset_at is not None else "initial"
    if user.password_expired(max_age_days(), now):
        return "expired"
    return None


def reset_notice(user):
    """'您的密码已于 … 由 …（…）重置…' while a reset password waits for its forced change, else None."""
    if not user.must_change_password or user.password_reset_at is None:
        return None
    from ..localtime import local_time

    by = user.password_reset_by
    who = f"{by.name}（{by.username}）" if by is not None else "管理员"
    return (f"您的密码已于 {local_time(user.password_reset_at)} 由 {who}重置。"
            "如非您本人申请，请立即联系安全管理员。")


def _recent_hashes(user):
    return db.session.scalars(
        select(UsedPassword.password_hash).where(UsedPassword.user_id == user.id)
        .order_by(UsedPassword.replaced_at.desc(), UsedPassword.id.desc()).limit(PASSWORD_HISTORY)
    ).all()


def check_new_password(user, new_password):
    """Refuse the current password and the last PASSWORD_HISTORY ones; raises PasswordRefused."""
    if check_password_hash(user.password_hash, new_password):
        raise PasswordRefused("新密码不能与当前密码相同。")
    for old in _recent_hashes(user):
        if old != user.password_hash and check_password_hash(old, new_password):
            raise PasswordRefused(f"新密码不能与最近 {PASSWORD_HISTORY} 次使用过的密码相同。")


def replace_password(user, new_password, *, one_time):
    """Set a new password; the replaced one joins the history if it was the user's own (not one-time)."""
    if not user.must_change_password and user.password_hash:
        db.session.add(UsedPassword(user_id=user.id, password_hash=user.password_hash))
        db.session.flush()
        keep = (select(UsedPassword.id).where(UsedPassword.user_id == user.id)
                .order_by(UsedPassword.replaced_at.desc(), UsedPassword.id.desc()).limit(PASSWORD_HISTORY))
        db.session.execute(
            delete(UsedPassword).where(UsedPassword.user_id == user.id, UsedPassword.id.not_in(keep.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
    user.set_password(new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = one_time


def change_password(user, new_password, keep_session=None):
    """Set a password the user chose, lift the forced change and end every other session of the user.

    Raises PasswordRefused for the current password or one of the last PASSWORD_HISTORY.
    """
    check_new_password(user, new_password)
    replace_password(user, new_password, one_time=False)
    end_all_sessions(user, keep=keep_session)
    db.session.flush()
    record("password_changed", user, user=user)


# For the auditor ---------------------------------------------------------------------------------

#: A password reset (AuditEntry) and the reset user's first log-in (AuditEntry) from the resetting admin's address.
SuspiciousReset = namedtuple("SuspiciousReset", "reset login")


def suspicious_resets(since):
    """Resets since `since` followed by a log-in of the reset user from the address the admin reset from.

    Such a log-in (before any later reset of the same account) suggests that the admin used the one-time
    password to become the user. Oldest reset first; one row per reset, with its first such log-in.
    """
    reset = aliased(AuditEntry)
    login = aliased(AuditEntry)
    later = aliased(AuditEntry)
    later_reset = exists().where(
        later.action == "password_reset", later.object_type == "User", later.object_id == reset.object_id,
        later.at > reset.at, later.at <= login.at, later.id != reset.id,
    )
    rows = db.session.execute(
        select(reset, login)
        .join(login, and_(
            login.action == "login",
            cast(login.user_id, String) == reset.object_id,
            login.ip == reset.ip,
            login.at >= reset.at,
            login.id > reset.id,
        ))
        .where(reset.action == "password_reset", reset.object_type == "User", reset.ip.is_not(None),
               reset.at >= since, ~later_reset)
        .order_by(reset.at, reset.id, login.at, login.id)
    ).all()
    flagged = {}
    for reset_entry, login_entry in rows:
        flagged.setdefault(reset_entry.id, SuspiciousReset(reset_entry, login_entry))
    return list(flagged.values())
