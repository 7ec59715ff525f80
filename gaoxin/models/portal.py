"""Enterprise accounts (企业用户) of the portal, their one-time activation codes and their server-side sessions.

An enterprise account is not a staff user: it lives in its own table, holds no role, and logs in on the
portal's own page (`/e/login`). Names:

* `EnterpriseAccount` (`enterprise_accounts`): one account per contact (`contact_id` unique) of one
  enterprise (`enterprise_id`, kept beside the contact so that every portal query filters on it directly).
  `login_name` is what the contact types to log in (chosen at activation, unique, case-insensitive);
  `password_hash` is NULL until the account is activated. `active` False = disabled by a clerk.
  `failed_logins` / `locked_until` are the lock-out (5 wrong passwords → 15 minutes, as for staff);
  `last_login_at` the last successful log-in; `password_changed_at` the last password set.
* `ActivationCode` (`activation_codes`): a one-time code printed for one contact of one enterprise
  (on a receipt, a notice or by the clerk's "生成激活码"). Only `code_hash` (SHA-256 of the normalised code)
  is stored; `expires_at` is 30 days after `created_at`; `used_at` / `account_id` are set when it is used.
  A code activates (or sets a new password for) the contact's account; it is refused when used, expired,
  or typed with another enterprise's credit code.
* `EnterpriseSession` (`enterprise_sessions`): the server-side session of a logged-in account, like
  `UserSession` for staff. Flask-Login keeps `e.<token>` in the cookie: the `e.` prefix tells the one user
  loader to look here (a staff cookie holds the bare token of a `user_sessions` row), so the kind of a
  session is fixed by the table its row lives in and can never be confused.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import UTCDateTime, utcnow

#: What Flask-Login keeps in the cookie for an enterprise session: this prefix and the session's token.
SESSION_PREFIX = "e."
#: Letters and digits of activation codes: no 0/O, 1/I/L, so that a printed code is typed right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#: 12 characters of 31: about 59 bits, printed as ABCD-EFGH-JKMN.
CODE_LENGTH = 12
#: How long a printed code may be used (issue 11: valid 30 days).
CODE_VALIDITY = timedelta(days=30)


def normalise_code(text):
    """A typed code as stored: upper case, without spaces and dashes (ABCD-efgh jkmn → ABCDEFGHJKMN)."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -\t")


def hash_code(text):
    """SHA-256 (hex) of the normalised code: the database never holds a usable code."""
    return hashlib.sha256(normalise_code(text).encode()).hexdigest()


def new_code():
    """A fresh random code, grouped by four for printing."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


class EnterpriseAccount(db.Model):
    """A contact's log-in to the portal (see the module docstring)."""

    __tablename__ = "enterprise_accounts"

    #: Tells the two kinds of Flask-Login user apart (User.is_enterprise is False).
    is_enterprise = True
    #: The EnterpriseSession of this request (set by the loader, not stored).
    login_session = None

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), unique=True)
    login_name: Mapped[str | None] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until = mapped_column(UTCDateTime, nullable=True)
    last_login_at = mapped_column(UTCDateTime, nullable=True)
    password_changed_at = mapped_column(UTCDateTime, nullable=True)
    activated_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: The clerk who created it (None when a printed code created it).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    disabled_at = mapped_column(UTCDateTime, nullable=True)
    disabled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    enterprise = relationship("Enterprise", lazy="joined", innerjoin=True)
    contact = relationship("Contact", lazy="joined", innerjoin=True)

    def __repr__(self):
        return f"<EnterpriseAccount {self.id} {self.login_name}>"

    # Flask-Login ------------------------------------------------------------------------------------
    @property
    def is_authenticated(self):
        return True

    @property
    def is_anonymous(self):
        return False

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return SESSION_PREFIX + self.login_session.token if self.login_session else None

    # Shared with staff code that asks any logged-in user ----------------------------------------------
    #: An enterprise account holds no staff role: permissions.can() refuses it everything.
    roles = frozenset()

    def has_role(self, *roles):
        return False

    @property
    def username(self):
        """The name in the audit log: marked as an enterprise account, never mistaken for a staff user name."""
        return f"企业:{self.login_name or self.id}"

    @property
    def name(self):
        return self.contact.name

    @property
    def is_activated(self):
        return self.password_hash is not None

    def set_password(self, password):
        from flask import current_app

        self.password_hash = generate_password_hash(password, method=current_app.config["GAOXIN_PASSWORD_METHOD"])

    def check_password(self, password):
        return self.password_hash is not None and check_password_hash(self.password_hash, password or "")

    def is_locked(self, now=None):
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    @property
    def status_title(self):
        if not self.active:
            return "已停用"
        if self.is_locked():
            return "已锁定"
        return "已激活" if self.is_activated else "待激活"


class ActivationCode(db.Model):
    """A one-time activation code for one contact (stored hashed; see the module docstring)."""

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    used_at = mapped_column(UTCDateTime, nullable=True)
    #: The account the code activated (or whose password it set).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise_accounts.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contact = relationship("Contact", lazy="joined", innerjoin=True)

    def is_expired(self, now=None):
        return self.expires_at <= (now or utcnow())


class EnterpriseSession(db.Model):
    """A server-side portal session: log-out, disabling or idleness ends it for good."""

    __tablename__ = "enterprise_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: secrets.token_urlsafe(32))
    account_id: Mapped[int] = mapped_column(ForeignKey("enterprise_accounts.id", ondelete="CASCADE"))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ended_at = mapped_column(UTCDateTime, nullable=True)

    account = relationship("EnterpriseAccount", lazy="joined", innerjoin=True)

    def is_idle(self, idle_minutes, now=None):
        return (now or utcnow()) - self.last_seen_at > timedelta(minutes=idle_minutes)


def load_enterprise_session(token):
    """The open EnterpriseSession for a cookie's token (without the prefix), or None."""
    return db.session.scalar(
        select(EnterpriseSession).where(EnterpriseSession.token == token, EnterpriseSession.ended_at.is_(None))
    )


Index("ix_enterprise_sessions_open", EnterpriseSession.account_id, EnterpriseSession.ended_at)
#: Unused codes of a contact, newest first (the enterprise page shows whether one is pending).
Index("ix_activation_codes_contact_open", ActivationCode.contact_id, ActivationCode.used_at, ActivationCode.expires_at)
