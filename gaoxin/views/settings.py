"""Settings (system admin): appeal categories and routing rules, working-day overrides, confirmed calendar years;
a department's canned replies (常用语, its lead)."""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.appeals import PhraseForm
from ..forms.settings import CategoryForm, NoticeForm, OverrideForm, PreviewForm
from ..htmx import render
from ..models import AppealCategory, CalendarYear, Phrase, Unit
from ..permissions import can, require
from ..workflow import JobKind, rule_holidays
from ..services import calendar as calendar_service
from ..services import jobs, phrases
from ..services.cases import InputError
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
    return render_template("settings/categories.html", categories=service.categories(),
                           calendar=calendar_service.working_calendar(), today=calendar_service.today(),
                           reminder=calendar_service.reminder())


@bp.app_template_global("calendar_reminder")
def calendar_reminder():
    """From 1 November, the reminder of next year's holiday notice, for the dispatcher and the system admin."""
    if not current_user.is_authenticated or not (can(current_user, "settings.manage")
                                                 or can(current_user, "appeal.dispatch")):
        return None
    return calendar_service.reminder()


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


def _notice_form(formdata=None):
    form = NoticeForm(formdata=formdata) if formdata is not None else NoticeForm()
    form.set_years(calendar_service.confirmable_years())
    return form


def _years():
    """The years after chinesecalendar's last: confirmed (by whom, when) or by rule, with the rule's holidays."""
    confirmed = {y.year: y for y in db.session.scalars(db.select(CalendarYear))}
    return [{"year": year, "confirmed": confirmed.get(year), "rule": rule_holidays(year)}
            for year in sorted(set(calendar_service.confirmable_years()) | set(confirmed))]


def _calendar_page(override_form, notice_form=None, parsed=None, status=200):
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
        first_year=first, last_year=last, today=today, reminder=calendar_service.reminder(today),
        notice_form=notice_form or _notice_form(None), parsed=parsed, years=_years(), status=status,
        recompute=jobs.latest(JobKind.recompute_due_dates),
    )


def _recompute(before, reason, done):
    """Commit the calendar change, then queue the recomputation of open cases' due dates (a background job:
    thousands of open cases must not hold the admin's request) and say so."""
    job, _ = jobs.submit_recompute(before, reason, current_user)
    db.session.commit()
    jobs.send(job)
    flash(f"{done}；在办案件的期限正在后台重新计算，结果见本页“期限重算”。", "success")


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
        before = calendar_service.load_calendar()
        try:
            override = service.add_override(form.day.data, form.is_workday.data == "1", form.note.data)
        except SettingsRefused as exc:
            _refused(form, exc)
        else:
            _recompute(before, f"工作日调整：{override.day:%Y-%m-%d} 改为{'上班' if override.is_workday else '放假'}",
                       f"已将 {override.day:%Y-%m-%d} 设为{'上班' if override.is_workday else '放假'}")
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
    before = calendar_service.load_calendar()
    if not service.delete_override(parsed):
        abort(404)
    _recompute(before, f"删除工作日调整：{parsed:%Y-%m-%d}", f"已删除 {parsed:%Y-%m-%d} 的调整")
    return redirect(url_for("settings.calendar"), code=303)


@bp.post("/calendar/years")
@login_required
def notice_submit():
    """Parse a pasted State Council notice and show the result ("解析"), or confirm the year with it ("确认")."""
    require("settings.manage")
    form = _notice_form(request.form)
    parsed = None
    if form.validate_on_submit():
        parsed = calendar_service.parse_notice(form.year.data, form.notice.data)
        if not parsed.ok:
            form.notice.errors = [*form.notice.errors, "通知中有无法识别的内容，请按下方提示修改后重新解析。"]
        elif "confirm" in request.form:
            try:
                parsed, before = calendar_service.confirm_year(form.year.data, form.notice.data, current_user)
            except calendar_service.CalendarRefused as exc:
                _refused(form, exc)
            else:
                _recompute(before, f"{form.year.data}年节假日安排已确认", f"已确认{form.year.data}年节假日安排")
                return redirect(url_for("settings.calendar"), code=303)
    status = 422 if form.errors else 200
    return _calendar_page(OverrideForm(formdata=None), notice_form=form, parsed=parsed, status=status)


# --------------------------------------------------------------------------- canned replies (常用语)


def _phrase_or_404(phrase_id):
    """The phrase if it is the lead's department's (403, audited, for another department's; 404 if none)."""
    phrase = db.session.get(Phrase, phrase_id)
    if phrase is None:
        abort(404)
    require("phrase.manage", phrase)
    return phrase


def _phrases_page(form, editing=None, status=200):
    return render_template("settings/phrases.html", form=form, editing=editing,
                           phrases=phrases.of_unit(current_user.unit_id)), status


@bp.route("/phrases", methods=["GET", "POST"])
@login_required
def phrases_index():
    """常用语: the department's phrases in order, and the form that adds one (its lead only)."""
    require("phrase.manage")
    form = PhraseForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                phrases.add(current_user, text=form.text.data, position=form.position.data)
            except InputError as exc:
                db.session.rollback()
                form.text.errors = [*form.text.errors, str(exc)]
            else:
                db.session.commit()
                flash("已添加常用语。", "success")
                return redirect(url_for("settings.phrases_index"), code=303)
        return _phrases_page(form, status=422)
    return _phrases_page(PhraseForm(formdata=None))


@bp.route("/phrases/<int:phrase_id>/edit", methods=["GET", "POST"])
@login_required
def phrase_edit(phrase_id):
    """Change a phrase's text or order."""
    phrase = _phrase_or_404(phrase_id)
    form = PhraseForm(obj=phrase) if request.method == "GET" else PhraseForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                changed = phrases.update(phrase, text=form.text.data, position=form.position.data)
            except InputError as exc:
                db.session.rollback()
                form.text.errors = [*form.text.errors, str(exc)]
            else:
                db.session.commit()
                flash("已保存常用语。" if changed else "没有需要保存的修改。", "success")
                return redirect(url_for("settings.phrases_index"), code=303)
        return _phrases_page(form, editing=phrase, status=422)
    return _phrases_page(form, editing=phrase)


@bp.post("/phrases/<int:phrase_id>/delete")
@login_required
def phrase_delete(phrase_id):
    """Remove a phrase; replies it was inserted into keep their text."""
    phrase = _phrase_or_404(phrase_id)
    phrases.delete(phrase)
    db.session.commit()
    flash("已删除常用语。", "success")
    return redirect(url_for("settings.phrases_index"), code=303)
