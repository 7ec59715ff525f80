"""The enterprise registry (一企一档): search, typeahead, the enterprise page, create and edit, import."""
import re

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.enterprises import EditEnterpriseForm, ImportForm, NewEnterpriseForm, building_choices
from ..htmx import is_fragment_request, render
from ..models import Enterprise
from ..permissions import get_visible_or_404, require, visible_enterprises
from ..reference import INDUSTRY_SECTIONS
from ..services import enterprises as registry
from ..services import imports
from ..services.audit import client_ip, record

bp = Blueprint("enterprises", __name__, url_prefix="/enterprises")

#: Rows on a search results page and on an import report page.
PAGE_SIZE = 20
REPORT_PAGE_SIZE = 50
#: Suggestions in a typeahead list.
SUGGEST_LIMIT = 10
#: Element ids the suggest fragment may be asked to address (they end up in HTML attributes).
_ELEMENT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_\-:.]{0,63}")


def _page_arg():
    """The ?page= number, at least 1."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


@bp.get("")
@login_required
def index():
    """Search the registry by name fragment, credit-code prefix or pinyin initials; htmx gets the results block."""
    require("enterprise.view")
    q = request.args.get("q", "").strip()[:100]
    page = _page_arg()
    result = registry.search_page(q, page=page, per_page=PAGE_SIZE)
    return render("enterprises/index.html", block="results", q=q, page=page, result=result,
                  sections=INDUSTRY_SECTIONS)


def _element_id(name, default=None):
    """A request argument that names an element id; 400 for anything that is not a plain id."""
    value = request.args.get(name) or default
    if value is not None and not _ELEMENT_ID.fullmatch(value):
        abort(400)
    return value


@bp.get("/suggest")
@login_required
def suggest():
    """Typeahead fragment: up to 10 enterprises matching the query, as a keyboard-usable list.

    Contract (for any form that looks up an enterprise):

    - ``GET /enterprises/suggest?q=迈普`` returns ``<ul id="enterprise-suggestions" class="typeahead-list"
      data-typeahead-list>`` with one ``<li><a href="/enterprises/<id>">name <small>credit code</small></a></li>``
      per match (empty ``<ul>`` for fewer than 2 characters; a ``<li class="muted">未找到…</li>`` for none).
    - ``list=<id>`` sets the ``<ul>``'s id (default ``enterprise-suggestions``); swap it with
      ``data-hx-target="#<id>" data-hx-swap="outerHTML"`` and point the input's ``aria-controls`` at it, with
      ``data-typeahead`` on the input, so app.js moves between input and options with the arrow keys.
    - Pick mode, ``pick=<hidden input id>&label=<visible input id>``: each option is a
      ``<button type="button" data-pick-target data-pick-value="<id>" data-pick-label data-pick-text="<name>">``;
      app.js puts the id into the hidden input (firing ``change``), the name into the visible one, and
      closes the list. The query is ``q``, or else the parameter named like the ``label`` id (an input
      with ``data-hx-get`` sends its own value under its name).
    """
    require("enterprise.view")
    list_id = _element_id("list", "enterprise-suggestions")
    pick = _element_id("pick")
    label = _element_id("label")
    q = request.args.get("q")
    if q is None and label:
        q = request.args.get(label)
    q = (q or "").strip()[:100]
    found = registry.suggest_rows(q, limit=SUGGEST_LIMIT) if len(q) >= registry.MIN_QUERY_LENGTH else None
    return render("enterprises/_suggest.html", q=q, found=found, list_id=list_id, pick=pick, label=label)


def _get_enterprise(enterprise_id):
    """Load an enterprise the current user may see, or 404."""
    return get_visible_or_404(visible_enterprises(current_user), enterprise_id, Enterprise)


@bp.get("/<int:enterprise_id>")
@login_required
def show(enterprise_id):
    """The enterprise's file: identity, building, contacts (mobiles masked), appeals and applications."""
    require("enterprise.view")
    enterprise = _get_enterprise(enterprise_id)
    return render("enterprises/show.html", enterprise=enterprise, sections=INDUSTRY_SECTIONS, revealed=set(),
                  **case_sections(enterprise))


def case_sections(enterprise):
    """The enterprise's latest appeals and applications that the current user may see."""
    return registry.case_sections(current_user, enterprise)


@bp.post("/<int:enterprise_id>/contacts/<int:contact_id>/reveal")
@login_required
def reveal_mobile(enterprise_id, contact_id):
    """Show one contact's full mobile number (audited); htmx gets the number's cell, a plain form the page."""
    enterprise = _get_enterprise(enterprise_id)
    require("enterprise.reveal_mobile", enterprise)
    contact = registry.contact_of(enterprise, contact_id)
    if contact is None:
        abort(404)
    record("mobile_revealed", contact, detail=f"{enterprise.name} · {contact.name}")
    db.session.commit()
    context = {"enterprise": enterprise, "sections": INDUSTRY_SECTIONS, "revealed": {contact.id}, **case_sections(enterprise)}
    if is_fragment_request():
        return render("enterprises/show.html", block="mobile", contact=contact, **context)
    return render("enterprises/show.html", **context)


def _building_choices():
    """Buildings with a station, for the enterprise form's select."""
    return building_choices(registry.buildings())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Register an enterprise by hand; bad input re-renders the form with the typed values and messages."""
    require("enterprise.create")
    form = NewEnterpriseForm()
    form.building_id.choices = _building_choices()
    if form.validate_on_submit():
        enterprise = registry.create_enterprise(
            form.enterprise_data(), contact_name=form.contact_name.data, contact_mobile=form.contact_mobile.data
        )
        db.session.commit()
        flash(f"已登记企业：{enterprise.name}", "success")
        return redirect(url_for("enterprises.show", enterprise_id=enterprise.id), code=303)
    status = 422 if form.errors else 200
    return render("enterprises/form.html", form=form, enterprise=None, status=status)


@bp.route("/<int:enterprise_id>/edit", methods=["GET", "POST"])
@login_required
def edit(enterprise_id):
    """Edit an enterprise's identity; a form based on an older version is refused, nothing overwritten."""
    enterprise = _get_enterprise(enterprise_id)
    require("enterprise.edit", enterprise)
    form = EditEnterpriseForm(obj=enterprise if request.method == "GET" else None)
    form.editing = enterprise
    form.building_id.choices = _building_choices()
    stale = None
    if form.validate_on_submit():
        try:
            registry.update_enterprise(enterprise, form.enterprise_data(), form.version.data)
        except registry.StaleEnterpriseError as exc:
            db.session.rollback()
            stale = str(exc)
            enterprise = _get_enterprise(enterprise_id)
        else:
            db.session.commit()
            flash("企业信息已保存。", "success")
            return redirect(url_for("enterprises.show", enterprise_id=enterprise.id), code=303)
    status = 409 if stale else (422 if form.errors else 200)
    return render("enterprises/form.html", form=form, enterprise=enterprise, stale=stale, status=status)


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_form():
    """Upload a registry export (CSV or XLSX); the import runs in the background and its page shows progress."""
    require("enterprise.import")
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        job = imports.create_job(current_user, upload.filename)
        db.session.commit()
        # Werkzeug spooled the upload to a temporary file; copy it to the job's file a megabyte at a time.
        path = imports.save_upload(job, upload.stream, upload.filename)
        imports.launch(job, path, ip=client_ip(), remove=True)
        return redirect(url_for("enterprises.import_job", job_id=job.id), code=303)
    jobs = imports.recent_jobs(10)
    return render("enterprises/import.html", form=form, jobs=jobs, columns=imports.COLUMNS,
                  required=imports.REQUIRED, max_mb=current_app.config["GAOXIN_IMPORT_MAX_MB"],
                  status=422 if form.errors else 200)


def _get_job(job_id):
    """An import job, or 404."""
    job = imports.job(job_id)
    if job is None:
        abort(404)
    return job


@bp.get("/import/<int:job_id>")
@login_required
def import_job(job_id):
    """An import's progress while it runs (htmx polls the job block) and its report of refused rows afterwards."""
    require("enterprise.import")
    job = _get_job(job_id)
    if imports.expire_if_stalled(job):
        db.session.commit()
    page = _page_arg()
    problems = imports.job_problems(job) if not job.is_running else []
    pages = max(1, -(-len(problems) // REPORT_PAGE_SIZE))
    page = min(page, pages)
    shown = problems[(page - 1) * REPORT_PAGE_SIZE:page * REPORT_PAGE_SIZE]
    return render("enterprises/import_job.html", block="job", job=job, problems=shown,
                  problem_count=len(problems), page=page, pages=pages, unused=imports.job_unused_columns(job))


@bp.get("/import/<int:job_id>/report.<any(csv, xlsx):fmt>")
@login_required
def import_report(job_id, fmt):
    """Download the refused rows of an import as CSV (UTF-8 with BOM) or XLSX."""
    require("enterprise.import")
    job = _get_job(job_id)
    if job.is_running:
        abort(404)
    if fmt == "csv":
        body, mimetype = imports.report_csv(job), "text/csv; charset=utf-8"
    else:
        body = imports.report_xlsx(job)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=import-report-{job.id}.{fmt}",
    })
