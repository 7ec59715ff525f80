"""Settings operations: appeal categories with their routing rules, and working-day overrides; each change audited.

Raises SettingsRefused (with the form field it belongs to) for a duplicate name, a lead department among the
co-handlers, a unit that is not an active department, or a day that already has an override. Flushes, never commits.
"""
from datetime import date

from flask import current_app, g, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import AppealCategory, CalendarOverride, Unit, UnitKind
from ..workflow import known_years
from . import calendar
from .audit import record


class SettingsRefused(Exception):
    """A change the rules refuse; `field` names the form field the message belongs beside."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


# --------------------------------------------------------------------------- categories


def categories():
    """Every category, in the order the intake form offers them."""
    return list(db.session.scalars(select(AppealCategory).options(selectinload(AppealCategory.co_units))
                                   .order_by(AppealCategory.position, AppealCategory.id)))


def departments(*keep):
    """Active departments, plus any unit in `keep` (a rule may still name one that was deactivated)."""
    units = list(db.session.scalars(
        select(Unit).where(Unit.kind == UnitKind.department.value, Unit.active.is_(True)).order_by(Unit.id)
    ))
    units += [u for u in keep if u is not None and u not in units]
    return units


def _describe(category):
    co = "、".join(u.name for u in category.co_units) or "无"
    lead = category.lead_unit.name if category.lead_unit else f"无（{current_app.config['GAOXIN_CENTRE_NAME']}待派单）"
    return (f"主办 {lead}；协办 {co}；办理时限 {category.handling_days} 个工作日；"
            f"排序 {category.position}；{'启用' if category.active else '停用'}")


def _check(category_id, name, lead_unit, co_units):
    duplicate = db.session.scalar(
        select(AppealCategory.id).where(
            func.lower(AppealCategory.name) == name.lower(), AppealCategory.id != (category_id or 0)
        )
    )
    if duplicate is not None:
        raise SettingsRefused(f"已有名为“{name}”的诉求类别。", "name")
    if lead_unit is not None and lead_unit.kind != UnitKind.department.value:
        raise SettingsRefused("主办单位须为职能部门。", "lead_unit_id")
    if any(u.kind != UnitKind.department.value for u in co_units):
        raise SettingsRefused("协办单位须为职能部门。", "co_unit_ids")
    if lead_unit is not None and lead_unit in co_units:
        raise SettingsRefused("主办部门不能同时作为协办部门，请取消勾选。", "co_unit_ids")


def _apply(category, *, name, lead_unit, co_units, handling_days, position, active):
    category.name = name
    category.lead_unit = lead_unit
    category.lead_unit_id = lead_unit.id if lead_unit else None
    category.co_units = list(co_units)
    category.handling_days = handling_days
    category.position = position or 0
    category.active = active


def create_category(*, name, lead_unit=None, co_units=(), handling_days, position=0, active=True):
    """A new category with its routing rule; appeals recorded in it from now on follow the rule."""
    _check(None, name, lead_unit, co_units)
    category = AppealCategory()
    _apply(category, name=name, lead_unit=lead_unit, co_units=co_units, handling_days=handling_days,
           position=position, active=active)
    db.session.add(category)
    db.session.flush()
    record("config_changed", category, detail=f"新建诉求类别“{name}”：{_describe(category)}")
    return category


def update_category(category, *, name, lead_unit=None, co_units=(), handling_days, position=0, active=True):
    """Change a category's rule; appeals already routed keep their department and deadline. Returns
    whether anything changed."""
    _check(category.id, name, lead_unit, co_units)
    before_name, before = category.name, _describe(category)
    _apply(category, name=name, lead_unit=lead_unit, co_units=co_units, handling_days=handling_days,
           position=position, active=active)
    after = _describe(category)
    if before_name == name and before == after:
        return False
    db.session.flush()
    renamed = f"（原名“{before_name}”）" if before_name != name else ""
    record("config_changed", category, detail=f"修改诉求类别“{name}”{renamed}：{before} → {after}")
    return True


# --------------------------------------------------------------------------- working days


def overrides():
    """Every override, by day."""
    return list(db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day)))


def _forget_cached_calendar():
    # working_calendar() keeps one calendar per request; a change made in this request must be seen by it.
    if has_app_context():
        g.pop("working_calendar", None)


def _describe_override(override):
    note = f"（{override.note}）" if override.note else ""
    return f"{override.day:%Y-%m-%d} {'上班' if override.is_workday else '放假'}{note}"


def add_override(day, is_workday, note=None):
    """Make `day` a working day or a holiday, whatever chinesecalendar says."""
    if db.session.get(CalendarOverride, day) is not None:
        raise SettingsRefused(f"{day:%Y-%m-%d} 已有调整，如需更改请先删除原有记录。", "day")
    override = CalendarOverride(day=day, is_workday=bool(is_workday), note=(note or "").strip() or None)
    db.session.add(override)
    db.session.flush()
    _forget_cached_calendar()
    record("config_changed", override, detail=f"新增工作日调整：{_describe_override(override)}")
    return override


def delete_override(day):
    """Remove the override for `day` (it follows the official schedule again); returns whether one existed."""
    override = db.session.get(CalendarOverride, day)
    if override is None:
        return False
    detail = f"删除工作日调整：{_describe_override(override)}"
    db.session.delete(override)
    db.session.flush()
    _forget_cached_calendar()
    record("config_changed", override, detail=detail)
    return True


def schedule_warning(today):
    """The warning for this year and next when chinesecalendar has no schedule and no override was entered."""
    return calendar.schedule_warning(date(today.year, 1, 1), date(today.year + 1, 12, 31))


def official_years():
    """The years chinesecalendar knows, for the page's explanation."""
    years = known_years()
    return years.start, years.stop - 1


def preview(start, days):
    """From `start`, the `days`-th working day; and the warning if the count crosses a year without a schedule."""
    end = calendar.working_calendar().add_workdays(start, days)
    return end, calendar.schedule_warning(start, end)
