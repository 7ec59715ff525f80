"""Units and accounts (system admin), roles and locks (security admin): operations that flush and audit; raise AdminRefused."""
import secrets

from sqlalchemy import func, select

from ..extensions import db
from ..models import ADMIN_ROLES, Role, Unit, UnitKind, User, utcnow
from .accounts import end_all_sessions, replace_password
from .audit import record

#: The business roles; the security admin alone grants any role (三员分立), never with an admin role.
BUSINESS_ROLES = (Role.clerk, Role.window, Role.dispatcher, Role.handler, Role.dept_lead, Role.leader)

#: Characters of generated passwords: no 0/O, 1/l/I, so a password read aloud at a desk survives.
_PASSWORD_CLASSES = (
    "abcdefghijkmnpqrstuvwxyz",
    "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "23456789",
    "-_.!@#%+=",
)
GENERATED_PASSWORD_LENGTH = 12


class AdminRefused(Exception):
    """An admin change was refused; str(exc) is the Chinese message, `field` the form field it belongs to."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def generate_password():
    """A random one-time password that meets the policy: every character class, 12 characters."""
    rng = secrets.SystemRandom()
    chars = [rng.choice(group) for group in _PASSWORD_CLASSES]
    everything = "".join(_PASSWORD_CLASSES)
    chars += [rng.choice(everything) for _ in range(GENERATED_PASSWORD_LENGTH - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


def contains_pattern(text):
    """A lower-case LIKE pattern (escape character \\) matching any value that contains `text`."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _role_list(roles):
    return "、".join(r.title for r in sorted(roles, key=list(Role).index)) or "（无）"


def _changes(pairs):
    """'名称：旧 → 新；…' for the (label, before, after) pairs that differ."""
    return "；".join(f"{label}：{before} → {after}" for label, before, after in pairs if before != after)


# Units ------------------------------------------------------------------------------------------


def units_with_user_counts():
    """Every unit with its number of users, in one grouped query: [(unit, count)]."""
    counts = (
        select(User.unit_id, func.count(User.id).label("n")).group_by(User.unit_id).subquery()
    )
    rows = db.session.execute(
        select(Unit, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.unit_id == Unit.id)
        .order_by(Unit.active.desc(), Unit.kind, Unit.name)
    )
    return [(unit, count) for unit, count in rows]


def _check_unit(name, kind, is_paying_unit, unit=None):
    name = (name or "").strip()
    if not name:
        raise AdminRefused("请输入单位名称。", "name")
    clash = select(Unit.id).where(func.lower(Unit.name) == name.lower())
    if unit is not None:
        clash = clash.where(Unit.id != unit.id)
    if db.session.scalar(clash) is not None:
        raise AdminRefused("已有同名单位。", "name")
    kind = UnitKind(kind)
    if is_paying_unit and kind != UnitKind.department:
        raise AdminRefused("只有职能部门可以设为拨付单位。", "is_paying_unit")
    return name, kind, bool(is_paying_unit)


def create_unit(name, kind, is_paying_unit=False, phone=None):
    """Create a unit (name unique); raises AdminRefused."""
    name, kind, is_paying_unit = _check_unit(name, kind, is_paying_unit)
    unit = Unit(name=name, kind=kind, is_paying_unit=is_paying_unit, active=True, phone=(phone or "").strip() or None)
    db.session.add(unit)
    db.session.flush()
    detail = f"名称：{name}；类型：{kind.title}" + ("；拨付单位" if is_paying_unit else "")
    record("unit_created", unit, detail=detail)
    return unit


def update_unit(unit, name, kind, is_paying_unit=False, phone=None):
    """Change a unit's name, kind, paying flag and telephone (None: kept); audits what changed; raises AdminRefused."""
    name, kind, is_paying_unit = _check_unit(name, kind, is_paying_unit, unit)
    phone = unit.phone if phone is None else (phone.strip() or None)
    detail = _changes([
        ("名称", unit.name, name),
        ("类型", UnitKind(unit.kind).title, kind.title),
        ("拨付单位", _yes_no(unit.is_paying_unit), _yes_no(is_paying_unit)),
        ("对外电话", unit.phone or "无", phone or "无"),
    ])
    unit.name, unit.kind, unit.is_paying_unit, unit.phone = name, kind, is_paying_unit, phone
    db.session.flush()
    if detail:
        record("unit_updated", unit, detail=detail)
    return detail


def set_unit_active(unit, active):
    """Deactivate or reactivate a unit (its users keep their accounts); audited as unit_updated."""
    if unit.active == active:
        return False
    record("unit_updated", unit, detail=_changes([("状态", _active_title(unit.active), _active_title(active))]))
    unit.active = active
    db.session.flush()
    return True


def _yes_no(value):
    return "是" if value else "否"


def _active_title(active):
    return "启用" if active else "停用"


# Users ------------------------------------------------------------------------------------------


def users_query(unit_id=None, text=None):
    """Users filtered by unit and by a fragment of the username or name, by unit then username."""
    query = select(User).join(User.unit).order_by(Unit.name, User.username)
    if unit_id:
        query = query.where(User.unit_id == unit_id)
    text = (text or "").strip()
    if text:
        pattern = contains_pattern(text)
        query = query.where(
            func.lower(User.username).like(pattern, escape="\\") | func.lower(User.name).like(pattern, escape="\\")
        )
    return query


def _check_unit_choice(unit, current=None):
    if unit is None or (not unit.active and unit != current):
        raise AdminRefused("请选择一个启用中的单位。", "unit_id")
    return unit


def create_user(username, name, unit):
    """Create an account without roles (三员分立: the security admin grants them) and a one-time password.

    Returns (user, password); raises AdminRefused.
    """
    username = (username or "").strip()
    name = (name or "").strip()
    if not username:
        raise AdminRefused("请输入用户名。", "username")
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise AdminRefused("该用户名已被使用（不区分大小写）。", "username")
    if not name:
        raise AdminRefused("请输入姓名。", "name")
    _check_unit_choice(unit)
    password = generate_password()
    user = User(username=username, name=name, unit=unit, must_change_password=True, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("user_created", user, detail=f"用户名：{username}；姓名：{name}；单位：{unit.name}")
    return user, password


def update_user(user, name, unit):
    """Change a user's name and unit (never roles: they are the security admin's); raises AdminRefused."""
    name = (name or "").strip()
    if not name:
        raise AdminRefused("请输入姓名。", "name")
    _check_unit_choice(unit, user.unit)
    detail = _changes([
        ("姓名", user.name, name),
        ("单位", user.unit.name, unit.name),
    ])
    user.name, user.unit = name, unit
    db.session.flush()
    if detail:
        record("user_updated", user, detail=detail)
    return detail


def disable_user(actor, user):
    """Disable an account and end all its sessions, so its next request is logged out."""
    if user.id == actor.id:
        raise AdminRefused("不能停用自己的账号。")
    if not user.active:
        return False
    user.active = False
    end_all_sessions(user)
    db.session.flush()
    record("user_disabled", user)
    return True


def enable_user(user):
    """Enable a disabled account again."""
    if user.active:
        return False
    user.active = True
    db.session.flush()
    record("user_enabled", user)
    return True


def reset_password(actor, user):
    """Give `user` a one-time password that opens only the forced change; stamps who reset it and when
    (told to the user at the next log-in), ends the user's sessions; returns the password."""
    if user.id == actor.id:
        raise AdminRefused("不能重置自己的密码，请使用“修改密码”。")
    password = generate_password()
    replace_password(user, password, one_time=True)
    user.password_reset_at = utcnow()
    user.password_reset_by_id = actor.id
    end_all_sessions(user)
    db.session.flush()
    record("password_reset", user)
    return password


# Security admin ---------------------------------------------------------------------------------


def locked_users(now=None):
    """Accounts locked out by failed log-ins right now, the longest-locked first."""
    now = now or utcnow()
    return db.session.scalars(
        select(User).where(User.locked_until > now).order_by(User.locked_until, User.username)
    ).all()


def unlock(user):
    """Lift a lockout and reset the failure count; False (nothing audited) if the account was not locked."""
    if not user.is_locked():
        return False
    user.locked_until = None
    user.failed_logins = 0
    db.session.flush()
    record("account_unlocked", user)
    return True


def check_separation(roles):
    """三员分立: an admin role stands alone, and no account holds two of them; raises AdminRefused."""
    roles = {Role(r) for r in roles}
    admin = roles & ADMIN_ROLES
    if len(admin) > 1:
        raise AdminRefused(
            "三员分立：系统管理员、安全管理员、审计管理员须由不同账号担任，一个账号只能担任其中之一。", "roles"
        )
    if admin and roles - admin:
        raise AdminRefused("三员分立：管理员角色须单独使用一个账号，不能与业务角色同时授予。", "roles")
    return roles


def change_roles(actor, user, roles):
    """Set every role of `user` (admin roles included) as the security admin; raises AdminRefused."""
    if user.id == actor.id:
        raise AdminRefused("不能修改自己的角色。", "roles")
    roles = check_separation(roles)
    before = user.roles
    if roles == before:
        return None
    user.set_roles(roles)
    db.session.flush()
    detail = f"变更前：{_role_list(before)}；变更后：{_role_list(roles)}"
    record("roles_changed", user, detail=detail)
    return detail


def units(active_only=False):
    """Units by kind and name (every one, or only those in use) for the admin forms' selects."""
    query = select(Unit).order_by(Unit.kind, Unit.name)
    if active_only:
        query = query.where(Unit.active.is_(True))
    return list(db.session.scalars(query))
