"""Salons (高新沙龙): the organiser's pages, the public sign-up, the entry mode, the live board, the summary."""
import secrets

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..extensions import db, limiter
from ..forms import salons as forms
from ..forms.fields import add_errors
from ..htmx import is_fragment_request, render
from ..models.salon import SalonState
from ..permissions import can, require, visible_enterprises
from ..services import appeals as appeal_service
from ..services import salons as service
from ..services.calendar import today
from ..services.enterprises import search as search_enterprises

bp = Blueprint("salons", __name__, url_prefix="/salons")

TOO_MANY = "提交过于频繁：同一网络地址每分钟最多提交10次报名，请1分钟后再试。"


def _salon_or_404(salon_id):
    salon = service.get(salon_id)
    if salon is None:
        abort(404)
    return salon


def _back(salon, anchor=""):
    return redirect(url_for("salons.show", salon_id=salon.id) + anchor, code=303)


# --------------------------------------------------------------------------- list and year totals


@bp.get("/")
@login_required
def index():
    """Every salon of a year, newest first, with the year's totals."""
    require("salon.view")
    year = request.args.get("year", type=int) or today().year
    if not 2000 <= year <= 2100:
        year = today().year
    return render("salons/index.html", salons=service.listing(year), totals=service.year_totals(year), year=year,
                  this_year=today().year)


# --------------------------------------------------------------------------- create and edit


def _salon_choices(form):
    units = service.departments()
    form.organiser_unit_id.choices = [(u.id, u.name) for u in units]
    form.department_ids.choices = [(u.id, u.name) for u in units]
    return units


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """The organiser plans a salon: theme, date, venue, organising department, departments taking part."""
    require("salon.manage")
    form = forms.SalonForm()
    units = _salon_choices(form)
    if request.method == "GET":
        organiser = service.organiser_unit()
        form.organiser_unit_id.data = organiser.id if organiser else None
    if form.validate_on_submit():
        organiser = next((u for u in units if u.id == form.organiser_unit_id.data), None)
        try:
            salon = service.create(current_user, theme=form.theme.data, held_on=form.held_on.data, venue=form.venue.data,
                                   organiser=organiser, department_ids=form.department_ids.data or [])
        except service.SalonRefused as exc:
            db.session.rollback()
            add_errors(form, {exc.field or "form": str(exc)})
        else:
            db.session.commit()
            flash(f"沙龙“{salon.theme}”已创建。确认参加部门后即可发布报名。", "success")
            return _back(salon)
    return render("salons/form.html", form=form, salon=None, status=422 if request.method == "POST" else 200)


@bp.route("/<int:salon_id>/edit", methods=["GET", "POST"])
@login_required
def edit(salon_id):
    """Change a salon not yet held."""
    require("salon.manage")
    salon = _salon_or_404(salon_id)
    form = forms.SalonForm(obj=salon if request.method == "GET" else None)
    units = _salon_choices(form)
    if request.method == "GET":
        form.department_ids.data = [u.id for u in salon.departments]
    if form.validate_on_submit():
        organiser = next((u for u in units if u.id == form.organiser_unit_id.data), None)
        try:
            service.update(salon, current_user, theme=form.theme.data, held_on=form.held_on.data, venue=form.venue.data,
                           organiser=organiser, department_ids=form.department_ids.data or [])
        except service.SalonRefused as exc:
            db.session.rollback()
            add_errors(form, {exc.field or "form": str(exc)})
        else:
            db.session.commit()
            flash("沙龙信息已保存。", "success")
            return _back(salon)
    return render("salons/form.html", form=form, salon=salon, status=422 if request.method == "POST" else 200)


# --------------------------------------------------------------------------- the salon page


def _show(salon, status=200, *, paste_form=None, paste_result=None, pick_form=None, candidates=None, error=None,
          summarise_form=None):
    pick_form = pick_form or forms.RegistryPickForm(formdata=None)
    return render(
        "salons/show.html", salon=salon, signups=service.signups(salon), participants=service.participants(salon),
        appeals=service.appeals_of(salon), paste_form=paste_form or forms.PasteForm(formdata=None),
        paste_result=paste_result, pick_form=pick_form, candidates=candidates or [], error=error,
        summarise_form=summarise_form or forms.SummariseForm(formdata=None), SalonState=SalonState, status=status,
    )


@bp.get("/<int:salon_id>")
@login_required
def show(salon_id):
    """The salon: its facts and state, sign-ups to decide, participants, the appeals raised at it."""
    require("salon.view")
    salon = _salon_or_404(salon_id)
    candidates, pick_form = [], forms.RegistryPickForm(formdata=None)
    query = (request.args.get("q") or "").strip()[:100]
    if query and can(current_user, "salon.manage"):
        pick_form.q.data = query
        candidates = search_enterprises(query, limit=10)
        if not candidates:
            pick_form.q.errors = ["档案中没有找到该企业。"]
    return _show(salon, candidates=candidates, pick_form=pick_form)


def _run(salon, operation, **show):
    """Call a salon operation and commit once; a refusal rolls back and shows the salon page with the reason
    (409). Returns (result, None), or (None, the refusal's response)."""
    try:
        result = operation()
    except service.SalonRefused as exc:
        db.session.rollback()
        return None, _show(salon, status=409, error=str(exc), **show)
    db.session.commit()
    return result, None


def _move(salon_id, action, done):
    require("salon.manage")
    salon = _salon_or_404(salon_id)
    _, refused = _run(salon, lambda: service.move(salon, current_user, action))
    if refused:
        return refused
    flash(done, "success")
    return _back(salon)


@bp.post("/<int:salon_id>/publish")
@login_required
def publish(salon_id):
    """Publish for sign-up (planned → open): the public sign-up page opens."""
    return _move(salon_id, "publish", "已发布报名，报名页面已对外开放。")


@bp.post("/<int:salon_id>/hold")
@login_required
def hold(salon_id):
    """Mark the salon as held (planned or open → held): sign-ups close."""
    return _move(salon_id, "hold", "沙龙已标记为已举办，报名已截止。")


@bp.post("/<int:salon_id>/summarise")
@login_required
def summarise(salon_id):
    """held → summarised, with the organiser's note; the printable summary follows."""
    require("salon.manage")
    salon = _salon_or_404(salon_id)
    form = forms.SummariseForm()
    if not form.validate_on_submit():
        return _show(salon, status=422, summarise_form=form)
    _, refused = _run(salon, lambda: service.move(salon, current_user, "summarise", note=form.summary_note.data),
                      summarise_form=form)
    if refused:
        return refused
    flash("沙龙已完成总结。", "success")
    return redirect(url_for("salons.summary", salon_id=salon.id), code=303)


def _decide(salon_id, signup_id, accept):
    require("salon.manage")
    salon = _salon_or_404(salon_id)
    signup = service.signup_of(salon, signup_id)
    if signup is None:
        abort(404)
    _, refused = _run(salon, lambda: service.decide_signup(salon, signup, current_user, accept=accept))
    if refused:
        return refused
    flash(f"已{'接受' if accept else '婉拒'}“{signup.enterprise_name}”的报名。", "success")
    return _back(salon, "#signups")


@bp.post("/<int:salon_id>/signups/<int:signup_id>/accept")
@login_required
def accept(salon_id, signup_id):
    """Accept a public sign-up: the enterprise (registered if new) takes part."""
    return _decide(salon_id, signup_id, True)


@bp.post("/<int:salon_id>/signups/<int:signup_id>/decline")
@login_required
def decline(salon_id, signup_id):
    """Decline a public sign-up."""
    return _decide(salon_id, signup_id, False)


@bp.post("/<int:salon_id>/participants")
@login_required
def add_participant(salon_id):
    """Add an enterprise picked from the registry."""
    require("salon.manage")
    salon = _salon_or_404(salon_id)
    form = forms.RegistryPickForm()
    enterprise_id = form.enterprise_id.data if form.validate_on_submit() else None
    enterprise = db.session.scalar(visible_enterprises(current_user).filter_by(id=enterprise_id)) if enterprise_id else None
    if enterprise is None:
        form.q.errors = ["请从档案检索结果中选择企业。"]
        return _show(salon, status=422, pick_form=form)
    added, refused = _run(salon, lambda: service.add_from_registry(salon, current_user, enterprise))
    if refused:
        return refused
    flash(f"已添加“{enterprise.name}”。" if added else f"“{enterprise.name}”已在参会名单中。", "success" if added else "info")
    return _back(salon, "#participants")


@bp.post("/<int:salon_id>/participants/paste")
@login_required
def paste(salon_id):
    """Add a pasted list of names or credit codes: the good lines are kept, the others reported."""
    require("salon.manage")
    salon = _salon_or_404(salon_id)
    form = forms.PasteForm()
    if not form.validate_on_submit():
        return _show(salon, status=422, paste_form=form)
    try:
        result = service.add_pasted(salon, current_user, form.pasted.data)
    except service.SalonRefused as exc:
        db.session.rollback()
        add_errors(form, {exc.field or "form": str(exc)})
        return _show(salon, status=422, paste_form=form)
    db.session.commit()
    if result.problems:
        # The lines that failed stay in the box, each with its reason, to be corrected and sent again.
        form = forms.PasteForm(formdata=None, pasted="\n".join(line for line, _ in result.problems))
        return _show(salon, status=422, paste_form=form, paste_result=result)
    flash(f"已添加{len(result.added)}家企业" + (f"，{len(result.already)}家已在名单中" if result.already else "") + "。",
          "success")
    return _back(salon, "#participants")


@bp.post("/<int:salon_id>/participants/<int:enterprise_id>/remove")
@login_required
def remove_participant(salon_id, enterprise_id):
    """Take an enterprise off the list."""
    require("salon.manage")
    salon = _salon_or_404(salon_id)
    _, refused = _run(salon, lambda: service.remove_participant(salon, current_user, enterprise_id))
    if refused:
        return refused
    flash("已移出参会名单。", "success")
    return _back(salon, "#participants")


@bp.get("/<int:salon_id>/seating")
@login_required
def seating(salon_id):
    """The printable seating list: tables of enterprises with their topics."""
    require("salon.view")
    salon = _salon_or_404(salon_id)
    return render("salons/seating.html", salon=salon, tables=service.seating(salon))


# --------------------------------------------------------------------------- public sign-up


def _signup_page(salon, form, status=200, message=None, done=None, headers=None):
    return render("public/salon_signup.html", salon=salon, form=form, message=message, done=done, status=status,
                  headers=headers)


@bp.route("/<int:salon_id>/signup", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def signup(salon_id):
    """The public sign-up page of a published salon (no log-in): name, credit code, contact, mobile, topic."""
    salon = service.get(salon_id)
    if salon is None:
        abort(404)
    form = forms.SignupForm()
    if salon.state != SalonState.open:
        return _signup_page(salon, form, status=409 if request.method == "POST" else 200,
                            message="该沙龙目前不接受报名（未发布或已截止）。")
    if not form.validate_on_submit():
        return _signup_page(salon, form, status=422 if request.method == "POST" else 200)
    result = service.sign_up(salon, enterprise_name=form.enterprise_name.data, credit_code=form.credit_code.data,
                             contact_name=form.contact_name.data, mobile=form.mobile.data, topic=form.topic.data)
    if result.errors:
        db.session.rollback()
        add_errors(form, result.errors)
        return _signup_page(salon, form, status=422)
    if result.duplicate:
        return _signup_page(salon, form, status=409,
                            message="该企业（统一社会信用代码相同）已报名本次沙龙，无需重复报名；主办方确认后将与联系人联系。")
    db.session.commit()
    return _signup_page(salon, forms.SignupForm(formdata=None), done=result.signup)


@bp.errorhandler(429)
def too_many_signups(exc):
    """Over 10 sign-ups a minute from one address: the form again, with the reason in Chinese."""
    salon = service.get(request.view_args.get("salon_id")) if request.view_args else None
    if salon is None:
        abort(404)
    return _signup_page(salon, forms.SignupForm(), status=429, message=TOO_MANY, headers={"Retry-After": "60"})


# --------------------------------------------------------------------------- entry mode


def _entry_form_choices(form):
    form.category_id.choices = [(None, "请选择")] + [(c.id, c.name) for c in appeal_service.active_categories()]


def _entry_page(salon, form, status=200, recorded=None):
    _entry_form_choices(form)
    if not form.submission_token.data:
        form.submission_token.data = secrets.token_urlsafe(24)
    return render("salons/entry.html", block="entry_panel", salon=salon, form=form, recorded=recorded,
                  participants=service.participants(salon), latest=list(reversed(service.appeals_of(salon)))[:10],
                  status=status)


@bp.route("/<int:salon_id>/entry", methods=["GET", "POST"])
@login_required
def entry(salon_id):
    """Entry mode: one screen, the enterprise picked from the salon's participants, category, content;
    each appeal is routed like any other (channel salon) and the form is ready again at once."""
    salon = _salon_or_404(salon_id)
    require("salon.enter", salon)
    form = forms.EntryForm()
    if request.method == "GET":
        return _entry_page(salon, forms.EntryForm(formdata=None))
    _entry_form_choices(form)
    valid = form.validate_on_submit()
    enterprise = service.find_participant(salon, form.enterprise.data)
    if form.enterprise.data and enterprise is None and not form.enterprise.errors:
        form.enterprise.errors = ["请从本次沙龙的参会企业中选择（输入名称的一部分或信用代码）。"]
        valid = False
    if not valid:
        return _entry_page(salon, form, status=422)
    # The enterprise is in the room: its contact with a mobile (from its sign-up) is the one to call back.
    contact = next((c for c in enterprise.contacts if c.mobile), None)
    result = appeal_service.intake(
        current_user, enterprise_id=enterprise.id, category_id=form.category_id.data, channel="salon",
        salon_id=salon.id, content=form.content.data, submission_token=form.submission_token.data,
        contact_id=contact.id if contact else None,
        no_contact_reason="" if contact else f"沙龙现场登记（{salon.theme}），企业未留联系人手机。")
    if result.errors:
        db.session.rollback()
        add_errors(form, {("enterprise" if k.startswith("enterprise") or k.startswith("contact") else k): v
                          for k, v in result.errors.items()})
        return _entry_page(salon, form, status=422)
    db.session.commit()
    appeal = result.appeal
    if not is_fragment_request():
        flash(f"已登记：{appeal.enterprise.name}，回执号{appeal.receipt_no}，已转{appeal.lead_unit.name if appeal.lead_unit else '调度中心'}。",
              "success")
        return redirect(url_for("salons.entry", salon_id=salon.id), code=303)
    return _entry_page(salon, forms.EntryForm(formdata=None), recorded=appeal)


# --------------------------------------------------------------------------- live board and summary


@bp.get("/<int:salon_id>/board")
@login_required
def board(salon_id):
    """The live board for a projector: the salon's appeals with department and state, counts on top;
    htmx polls the board block, and gets 204 (nothing to swap) while nothing changed."""
    require("salon.view")
    salon = _salon_or_404(salon_id)
    stamp = service.board_stamp(salon)
    if is_fragment_request() and request.args.get("since") == stamp:
        return "", 204
    appeals = service.appeals_of(salon)
    return render("salons/board.html", block="board", salon=salon, appeals=appeals, counts=service.counts(appeals),
                  stamp=stamp)


@bp.get("/<int:salon_id>/summary")
@login_required
def summary(salon_id):
    """The salon's summary, printable on A4."""
    require("salon.view")
    salon = _salon_or_404(salon_id)
    return render("salons/summary.html", summary=service.summary(salon), salon=salon, today=today())

