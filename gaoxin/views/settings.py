"""Settings (system admin): appeal categories and routing rules, working-day overrides."""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ..extensions import db
from ..forms.settings import CategoryForm, OverrideForm, PreviewForm
from ..htmx import render
from ..models import AppealCategory, Unit
from ..permissions import require
from ..services import calendar as calendar_service
from ..services import settings as service
from ..services.settings import SettingsRefused

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _refused(form, exc):
    """Show a refused change beside its field, typed values kept."""
    db.session.rollback()
    field = getattr(form, exc.field or "", None)
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "error")


@bp.get("/")
@login_required
def index():
    """The settings area starts at the categories."""
    require("settings.manage")
    return redirect(url_for("settings.categories"))


# --------------------------------------------------------------------------- categories


@bp.get("/categories")
@login_required
def categories():
    """Appeal categories with their routing rule: lead, co-handlers, handling limit."""
    require("settings.manage")
    return render_template("settings/categories.html", categories=service.categories())


def _category_form(category=None):
    form = CategoryForm(obj=category)
    if category is not None and request.method == "GET":
        form.lead_unit_id.data = category.lead_unit_id
        form.co_unit_ids.data = [u.id for u in category.co_units]
    keep = [category.lead_unit, *category.co_units] if category is not None else []
    form.set_departments(service.departments(*keep))
    return form


def _rule(form):
    lead = db.session.get(Unit, form.lead_unit_id.data) if form.lead_unit_id.data else None
    co = [db.session.get(Unit, i) for i in form.co_unit_ids.data or []]
    return {
        "name": form.name.data, "lead_unit": lead, "co_units": [u for u in co if u is not None],
        "handling_days": form.handling_days.data, "position": form.position.data or 0, "active": form.active.data,
    }


def _save_category(category=None):
    """The category form: create (category None) or edit; refusals beside their field, typed values kept."""
    form = _category_form(category)
    if form.validate_on_submit():
        try:
            if category is None:
                category = service.create_category(**_rule(form))
                message = f"已新建诉求类别“{category.name}”。"
            else:
                changed = service.update_category(category, **_rule(form))
                message = f"已保存诉求类别“{category.name}”。" if changed else "没有需要保存的修改。"
        except SettingsRefused as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("settings.categories"), code=303)
    return render_template("settings/category_form.html", form=form, category=category)


@bp.route("/categories/new", methods=["GET", "POST"])
@login_required
def category_new():
    """Create a category with its routing rule."""
    require("settings.manage")
    return _save_category()


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@login_required
def category_edit(category_id):
    """Change a category's name, routing rule, limit, position or state; routed appeals keep theirs."""
    require("settings.manage")
    return _save_category(db.get_or_404(AppealCategory, category_id))


# --------------------------------------------------------------------------- working days


def _calendar_page(override_form):
    today = calendar_service.today()
    preview_form = PreviewForm(formdata=request.args if "start" in request.args else None)
    result = None
    if "start" in request.args and preview_form.validate():
        end, warning = service.preview(preview_form.start.data, preview_form.days.data)
        result = {"start": preview_form.start.data, "days": preview_form.days.data, "end": end, "warning": warning}
    elif "start" not in request.args:
        preview_form.start.data = today
    first, last = service.official_years()
    return render(
        "settings/calendar.html", block="preview",
        override_form=override_form, preview_form=preview_form, result=result,
        overrides=service.overrides(), warning=service.schedule_warning(today),
        first_year=first, last_year=last, today=today,
    )


@bp.get("/calendar")
@login_required
def calendar():
    """The overrides table, the missing-schedule warning and the deadline calculator (htmx gets the result only)."""
    require("settings.manage")
    return _calendar_page(OverrideForm(formdata=None))


@bp.post("/calendar/overrides")
@login_required
def override_add():
    """Add a holiday or a swapped working day; a refused day is shown beside the field."""
    require("settings.manage")
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            override = service.add_override(form.day.data, form.is_workday.data == "1", form.note.data)
        except SettingsRefused as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            flash(f"已将 {override.day:%Y-%m-%d} 设为{'上班' if override.is_workday else '放假'}。", "success")
            return redirect(url_for("settings.calendar"), code=303)
    return _calendar_page(form)


@bp.post("/calendar/overrides/<day>/delete")
@login_required
def override_delete(day):
    """Remove an override; the day follows the official schedule again."""
    require("settings.manage")
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if not service.delete_override(parsed):
        abort(404)
    db.session.commit()
    flash(f"已删除 {parsed:%Y-%m-%d} 的调整。", "success")
    return redirect(url_for("settings.calendar"), code=303)
