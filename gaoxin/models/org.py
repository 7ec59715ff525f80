"""Units (departments, stations, points, the window, the dispatch centre), users, roles and login sessions."""
import secrets
from datetime import timedelta

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import LabelledEnum, UTCDateTime, enum_check, enum_column_type, utcnow


class UnitKind(LabelledEnum):
    """What kind of unit it is (DOMAIN.md, Units)."""

    department = "department"
    service_point = "service_point"
    building_station = "building_station"
    window = "window"
    dispatch_centre = "dispatch_centre"
    zone = "zone"

    __titles__ = {
        department: "职能部门",
        service_point: "企业服务中心工作服务点",
        building_station: "楼宇企业服务站",
        window: "一窗式政策申报和受理服务窗口",
        dispatch_centre: "企业服务中心",
        zone: "管委会",
    }


class Role(LabelledEnum):
    """What a user may do (DOMAIN.md, Who uses it)."""

    clerk = "clerk"
    window = "window"
    dispatcher = "dispatcher"
    handler = "handler"
    dept_lead = "dept_lead"
    leader = "leader"
    sysadmin = "sysadmin"
    secadmin = "secadmin"
    auditor = "auditor"

    __titles__ = {
        clerk: "楼宇站/服务点工作人员",
        window: "一窗式窗口人员",
        dispatcher: "企业服务中心调度员",
        handler: "部门经办人",
        dept_lead: "部门负责人",
        leader: "管委会领导",
        sysadmin: "系统管理员",
        secadmin: "安全管理员",
        auditor: "审计管理员",
    }

#: The three separated administrator roles (三员分立): no account holds two of them.
ADMIN_ROLES = frozenset({Role.sysadmin, Role.secadmin, Role.auditor})


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (enum_check("kind", UnitKind, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[UnitKind] = mapped_column(enum_column_type(UnitKind), index=True)
    #: Pays out approved policy money (财政金融局 in the demo).
    is_paying_unit: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    #: The counter's telephone, printed on receipts and notices the unit hands out.
    phone: Mapped[str | None] = mapped_column(String(30))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    users = relationship("User", back_populates="unit", lazy="raise_on_sql")

    def __repr__(self):
        return f"<Unit {self.id} {self.name}>"

    @property
    def kind_title(self):
        return UnitKind(self.kind).title


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (enum_check("role", Role, "role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column_type(Role), primary_key=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    #: The UserSession this request logged in with (set by the user loader, not stored).
    login_session = None

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until = mapped_column(UTCDateTime, nullable=True)
    last_login_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: When the current password was set: it must be changed after GAOXIN_PASSWORD_MAX_AGE_DAYS.
    password_changed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: The last admin reset: shown to the user at the next log-in, and to the auditor.
    password_reset_at = mapped_column(UTCDateTime, nullable=True)
    password_reset_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit = relationship("Unit", back_populates="users", lazy="joined", innerjoin=True)
    role_rows = relationship("UserRole", lazy="selectin", cascade="all, delete-orphan")
    password_reset_by = relationship("User", remote_side=[id], foreign_keys=[password_reset_by_id], lazy="select")

    def __repr__(self):
        return f"<User {self.username}>"

    def get_id(self):
        # Flask-Login keeps this in the cookie: the server-side session token, never the user id,
        # so that logging out or disabling the account invalidates a captured cookie.
        return self.login_session.token if self.login_session else None

    @property
    def is_active(self):
        return self.active

    @property
    def roles(self):
        return frozenset(Role(r.role) for r in self.role_rows)

    def set_roles(self, roles):
        wanted = {Role(r) for r in roles}
        self.role_rows = [r for r in self.role_rows if Role(r.role) in wanted]
        have = {Role(r.role) for r in self.role_rows}
        self.role_rows.extend(UserRole(role=r) for r in wanted - have)

    def has_role(self, *roles):
        return bool(self.roles.intersection(roles))

    @property
    def role_titles(self):
        return "、".join(r.title for r in sorted(self.roles, key=list(Role).index))

    def set_password(self, password):
        from flask import current_app

        self.password_hash = generate_password_hash(password, method=current_app.config["GAOXIN_PASSWORD_METHOD"])

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def is_locked(self, now=None):
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def password_expired(self, max_age_days, now=None):
        """Has the current password outlived `max_age_days` (0 or None: no maximum age)?"""
        if not max_age_days:
            return False
        return (now or utcnow()) - self.password_changed_at > timedelta(days=max_age_days)


class UsedPassword(db.Model):
    """A password the user had before (its hash only), kept so that it is not chosen again."""

    __tablename__ = "used_passwords"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: When it stopped being the user's password.
    replaced_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class UserSession(db.Model):
    """A server-side login session: logout, disabling or idleness ends it for good."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: secrets.token_urlsafe(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ended_at = mapped_column(UTCDateTime, nullable=True)

    user = relationship("User", lazy="joined", innerjoin=True)

    def is_idle(self, idle_minutes, now=None):
        return (now or utcnow()) - self.last_seen_at > timedelta(minutes=idle_minutes)


Index("ix_user_sessions_open", UserSession.user_id, UserSession.ended_at)
