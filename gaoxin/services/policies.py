"""The policy catalogue (政策目录): search, open-period status, per-policy figures, and changes to policies
and their material checklists (flush and audit, never commit); raises PolicyError and StalePolicyError."""
from collections import namedtuple
from decimal import Decimal

from sqlalchemy import case, exists, func, or_, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import Application, ApplicationItem, Policy, PolicyItem
from ..models.base import LabelledEnum
from ..models.policy import Money
from ..workflow import ApplicationOutcome, ApplicationState
from .audit import record
from .files import ACCEPTED

STALE = "该政策已被他人修改，您的修改没有保存。请查看最新内容后重新填写"

#: Policy fields a manager edits, with the names the audit log uses for them.
POLICY_FIELDS = {
    "code": "政策编号", "title": "政策名称", "level": "政策层级", "department_id": "主管部门",
    "opens_on": "申报开始日期", "closes_on": "申报截止日期", "max_amount": "最高金额",
    "review_days": "审查时限", "description": "政策说明", "active": "启用状态",
}
ITEM_FIELDS = ("name", "required", "formats", "note")


class PolicyError(ValueError):
    """A change that breaks a catalogue rule; `field` names the form field the message belongs to."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class StalePolicyError(PolicyError):
    """Someone saved the policy after the user opened it: the user's change is refused."""

    def __init__(self):
        super().__init__(STALE)


class PeriodStatus(LabelledEnum):
    """Where a day falls against a policy's open period."""

    open = "open"
    not_yet = "not_yet"
    closed = "closed"

    __titles__ = {open: "申报中", not_yet: "未开始", closed: "已截止"}
    __css_classes__ = {open: "status-ok", not_yet: "status-warn"}


# --------------------------------------------------------------------------- reading


def period_status(policy, on):
    """Whether `on` (a China date) is before, inside or after the policy's open period; open ends are unbounded."""
    if policy.opens_on is not None and on < policy.opens_on:
        return PeriodStatus.not_yet
    if policy.closes_on is not None and on > policy.closes_on:
        return PeriodStatus.closed
    return PeriodStatus.open


def application_refusal(policy, on):
    """Why the policy cannot be applied for on `on` (Chinese), or None when it can."""
    if not policy.active:
        return "该政策已停用，不能申报。"
    status = period_status(policy, on)
    if status is PeriodStatus.not_yet:
        return f"该政策尚未开始申报，申报期自{policy.opens_on:%Y年%-m月%-d日}起。"
    if status is PeriodStatus.closed:
        return f"该政策已于{policy.closes_on:%Y年%-m月%-d日}截止申报。"
    return None


def open_on(on):
    """SQL condition: active and inside the open period on date `on`."""
    return (
        Policy.active.is_(True)
        & (Policy.opens_on.is_(None) | (Policy.opens_on <= on))
        & (Policy.closes_on.is_(None) | (Policy.closes_on >= on))
    )


def filter_catalogue(query, *, q=None, level=None, department_id=None, open_date=None):
    """Narrow a policy query by a title or code fragment, level, department and 'open on this date'."""
    if q:
        query = query.where(or_(
            Policy.title.contains(q, autoescape=True),
            func.upper(Policy.code).contains(q.upper(), autoescape=True),
        ))
    if level:
        query = query.where(Policy.level == level)
    if department_id:
        query = query.where(Policy.department_id == department_id)
    if open_date is not None:
        query = query.where(open_on(open_date))
    return query.order_by(Policy.code)


StateCount = namedtuple("StateCount", "state title count")
Figures = namedtuple("Figures", "counts total approved_total disbursed_total")


def figures(policy):
    """Applications of the policy by state, with the approved and disbursed totals (Decimal), in one GROUP BY."""
    approved = func.sum(case((Application.outcome == ApplicationOutcome.approved, Application.approved_amount)))
    rows = db.session.execute(
        select(Application.state, func.count(), type_coerce(approved, Money),
               type_coerce(func.sum(Application.disbursed_amount), Money))
        .where(Application.policy_id == policy.id)
        .group_by(Application.state)
    ).all()
    by_state = {state: n for state, n, _, _ in rows}
    counts = [StateCount(s.value, s.title, by_state.get(s.value, 0)) for s in ApplicationState]
    return Figures(
        counts=counts,
        total=sum(by_state.values()),
        approved_total=_money_sum(r[2] for r in rows),
        disbursed_total=_money_sum(r[3] for r in rows),
    )


def _money_sum(values):
    return sum((Decimal(v) for v in values if v is not None), Decimal("0.00")).quantize(Decimal("0.01"))


def find_by_code(code):
    """The policy with this (normalised) code, or None."""
    return db.session.scalar(select(Policy).where(Policy.code == code))


def has_applications(policy):
    """True once any application (a draft included) names the policy."""
    return db.session.scalar(select(exists().where(Application.policy_id == policy.id)))


# --------------------------------------------------------------------------- changing


def _check_version(policy, seen_version):
    if seen_version != policy.version:
        raise StalePolicyError()


def _flush(policy):
    """Write the policy row (its version goes up); a concurrent save or a taken code is refused."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise StalePolicyError() from exc
    except IntegrityError as exc:
        raise PolicyError("该政策编号已被使用，请换一个。", field="code") from exc


def _touch(policy):
    # The checklist belongs to the policy: changing an item bumps the policy's version, so a
    # page opened before the change can no longer save over it.
    flag_modified(policy, "title")
    _flush(policy)


def create_policy(data):
    """Add a policy with an empty checklist; flushes and audits."""
    policy = Policy(**data)
    db.session.add(policy)
    _flush(policy)
    record("config_changed", policy, detail=f"新建政策 {policy.code} {policy.title}")
    return policy


def update_policy(policy, data, seen_version):
    """Apply an edit made on version `seen_version`; returns the changed field names (Chinese).
    Raises StalePolicyError, or PolicyError when the department would change under existing applications."""
    _check_version(policy, seen_version)
    changed = [f for f, v in data.items() if getattr(policy, f) != v]
    if not changed:
        return []
    if "department_id" in changed and has_applications(policy):
        # Each application carries its policy's department (the department's list is one index
        # range); moving the policy would leave its applications with the old department.
        raise PolicyError("该政策已有申报，不能更换主管部门。", field="department_id")
    for field in changed:
        setattr(policy, field, data[field])
    _flush(policy)
    names = "、".join(POLICY_FIELDS.get(f, f) for f in changed)
    record("config_changed", policy, detail=f"修改政策 {policy.code}：{names}")
    return [POLICY_FIELDS.get(f, f) for f in changed]


def normalize_formats(formats):
    """Format keys in the order of files.ACCEPTED, comma-separated; raises PolicyError for none or unknown."""
    chosen = set(formats or ())
    if not chosen:
        raise PolicyError("请至少选择一种接受的文件格式。", field="formats")
    if chosen - ACCEPTED.keys():
        raise PolicyError("文件格式只能从列表中选择。", field="formats")
    return ",".join(k for k in ACCEPTED if k in chosen)


def add_item(policy, data, seen_version):
    """Append a material to the checklist; raises StalePolicyError or PolicyError."""
    _check_version(policy, seen_version)
    item = PolicyItem(
        name=data["name"], required=data["required"], formats=normalize_formats(data["formats"]),
        note=data.get("note"), position=len(policy.items),
    )
    policy.items.append(item)
    _touch(policy)
    record("config_changed", policy, detail=f"政策 {policy.code} 材料清单：新增“{item.name}”")
    return item


def update_item(policy, item, data, seen_version):
    """Change a material's name, required flag, formats or note; raises StalePolicyError or PolicyError."""
    _check_version(policy, seen_version)
    values = {**{f: data.get(f) for f in ITEM_FIELDS}, "formats": normalize_formats(data["formats"])}
    changed = [f for f in ITEM_FIELDS if getattr(item, f) != values[f]]
    if not changed:
        return []
    for field in changed:
        setattr(item, field, values[field])
    _touch(policy)
    record("config_changed", policy, detail=f"政策 {policy.code} 材料清单：修改“{item.name}”")
    return changed


def remove_item(policy, item, seen_version):
    """Take a material off the checklist, unless an application already refers to it."""
    _check_version(policy, seen_version)
    if db.session.scalar(select(exists().where(ApplicationItem.item_id == item.id))):
        raise PolicyError(f"已有申报使用材料“{item.name}”，不能删除；可改为非必需材料或修改说明。")
    policy.items.remove(item)
    _renumber(policy)
    _touch(policy)
    record("config_changed", policy, detail=f"政策 {policy.code} 材料清单：删除“{item.name}”")


def move_item(policy, item, offset, seen_version):
    """Move a material up (offset -1) or down (+1) the checklist; at either end nothing moves."""
    _check_version(policy, seen_version)
    items = list(policy.items)
    index = items.index(item)
    target = index + offset
    if not 0 <= target < len(items):
        return False
    items[index], items[target] = items[target], items[index]
    _renumber(policy, items)
    _touch(policy)
    record("config_changed", policy, detail=f"政策 {policy.code} 材料清单：调整“{item.name}”的顺序")
    return True


def _renumber(policy, items=None):
    for position, item in enumerate(items or policy.items):
        item.position = position


def catalogue_page(user, *, q="", level="", department_id=None, open_date=None, page=1):
    """One page of the catalogue `user` may browse, filtered; checklists are not loaded (the list shows none)."""
    from sqlalchemy.orm import lazyload

    from ..permissions import visible_policies
    from .pages import fetch_page

    query = filter_catalogue(visible_policies(user).options(lazyload(Policy.items)), q=q, level=level,
                             department_id=department_id, open_date=open_date)
    return fetch_page(query, page)


def departments(user=None):
    """Departments by id: every one (the catalogue's filter), or those `user` may make responsible."""
    from ..models import Unit, UnitKind
    from ..permissions import manageable_departments

    if user is not None:
        return list(db.session.scalars(manageable_departments(user).order_by(Unit.id)))
    return list(db.session.scalars(select(Unit).where(Unit.kind == UnitKind.department.value).order_by(Unit.id)))
