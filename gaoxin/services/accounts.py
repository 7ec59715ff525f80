"""Log-in, lockout and server-side sessions; raises LoginRefused with the message the user sees."""
from datetime import timedelta

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import User, UserSession, utcnow
from .audit import record

#: 5 failed attempts lock the account for 15 minutes (等保 2.0 身份鉴别).
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
#: One message for an unknown user and a wrong password, so names cannot be probed.
BAD_CREDENTIALS = "用户名或密码错误。"


class LoginRefused(Exception):
    """The log-in was refused; str(exc) is the Chinese message for the user."""


def authenticate(username, password, *, ip=None, user_agent=None):
    """Check the credentials and open a UserSession; raises LoginRefused."""
    username = (username or "").strip()
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    now = utcnow()
    if user is None:
        user_check_dummy(password)
        record("login_failed", result="failed", username=username, detail="unknown user")
        raise LoginRefused(BAD_CREDENTIALS)
    if user.is_locked(now):
        record("login_failed", user, result="denied", user=user, detail="locked")
        raise LoginRefused(locked_message(user, now))
    if not user.check_password(password):
        _count_failure(user, now)
        raise LoginRefused(locked_message(user, now) if user.is_locked(now) else BAD_CREDENTIALS)
    if not user.active:
        record("login_failed", user, result="denied", user=user, detail="disabled")
        raise LoginRefused("该账号已停用，请联系系统管理员。")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    login_session = UserSession(user_id=user.id, ip=ip, user_agent=(user_agent or "")[:500])
    db.session.add(login_session)
    db.session.flush()
    user.login_session = login_session
    record("login", user, user=user)
    return user


def _count_failure(user, now):
    # Counted with one UPDATE in the database so that several workers share the count.
    db.session.execute(
        update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
    )
    db.session.refresh(user, ["failed_logins"])
    record("login_failed", user, result="failed", user=user, detail=f"attempt {user.failed_logins}")
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + LOCKOUT
        user.failed_logins = 0
        record("lockout", user, result="denied", user=user)


def locked_message(user, now):
    minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
    return f"登录失败次数过多，账号已锁定，请{minutes}分钟后再试。"


_DUMMY_HASH = None


def user_check_dummy(password):
    """Spend the same time on an unknown user as on a wrong password (no timing oracle)."""
    global _DUMMY_HASH
    from werkzeug.security import check_password_hash, generate_password_hash

    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")
    check_password_hash(_DUMMY_HASH, password or "")


def end_session(login_session, reason="logout"):
    """Close a server-side session; its cookie is refused from now on."""
    if login_session is not None and login_session.ended_at is None:
        login_session.ended_at = utcnow()


def end_all_sessions(user):
    """Close every open session of `user` (disabled account, password reset)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def change_password(user, new_password):
    """Set a new password chosen by the user and lift the forced change."""
    user.set_password(new_password)
    user.must_change_password = False
    record("password_changed", user, user=user)
