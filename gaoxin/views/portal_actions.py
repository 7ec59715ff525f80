"""What an enterprise does online (issue 11, part B), as routes of part A's `portal` blueprint (prefix /e),
so that the portal's fence, log-in and navigation hold for them: raise an appeal, answer a supplement notice,
rate a reply, read its messages. Plain forms and links throughout (no JavaScript needed).

Every case is loaded through `_own`: another enterprise's id is a 404, audited as 越权尝试.
"""
import secrets
from dataclasses import dataclass, field

from flask import abort, flash, redirect, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..forms.portal_actions import OnlineAppealForm, SatisfactionForm, SupplementForm
from ..htmx import render
from ..models import Appeal, Application
from ..permissions import NotVisible
from ..portal_auth import current_account, current_enterprise, portal_required
from ..services import messages as inbox
from ..services import portal as service
from ..services.cases import InputError, by_submission_token
from ..workflow import WorkflowError
from .portal import PORTAL_NAV, bp


def _own(model, case_id):
    """A case of the logged-in enterprise, or 404 (NotVisible, audited, when it is another's)."""
    case = db.session.scalar(select(model).where(model.id == case_id,
                                                 model.enterprise_id == current_enterprise().id))
    if case is None:
        if db.session.scalar(select(model.id).where(model.id == case_id)) is not None:
            raise NotVisible("portal.case", model.__name__, case_id)
        abort(404)
    return case


@dataclass
class Outcome:
    """What a service action came to: done (with its value), or refused with a message for the page and
    per-checklist-item messages; bad input for a form field is put beside the field."""

    done: bool
    value: object = None
    error: str | None = None
    item_errors: dict = field(default_factory=dict)
    #: Refused by the workflow (409), not bad input (422).
    conflict: bool = False

    def status(self, form):
        return 409 if self.conflict else (422 if self.error or self.item_errors or form.errors else 200)


def _attempt(form, action):
    """Run a service action and commit once; on bad input or a refused transition roll everything back."""
    try:
        value = action()
    except InputError as exc:
        db.session.rollback()
        errors = getattr(exc, "field_errors", None) or {exc.field: str(exc)}
        placed = {name for name in errors if name in form}
        for name in placed:
            form[name].errors = list(form[name].errors) + [errors[name]]
        return Outcome(False, error=None if placed else str(exc), item_errors=exc.item_errors)
    except WorkflowError as exc:
        db.session.rollback()
        return Outcome(False, error=str(exc), conflict=True)
    db.session.commit()
    return Outcome(True, value)


# --------------------------------------------------------------------------- raise an appeal


@bp.route("/appeals/new", methods=["GET", "POST"])
@portal_required
def new_appeal():
    """网上提诉求: category, content, attachments; routed like any appeal, the receipt shown at once."""
    form = OnlineAppealForm()
    form.category_id.choices = [("", "请选择")] + [(c.id, c.name) for c in service.categories()]
    if request.method == "GET":
        form.submission_token.data = secrets.token_urlsafe(24)
    elif (done := _submitted_by_this_enterprise(form.submission_token.data)) is not None:
        return redirect(url_for("portal.appeal_received", appeal_id=done.id), code=303)
    outcome = Outcome(False)
    if form.validate_on_submit():
        try:
            outcome = _attempt(form, lambda: service.raise_appeal(
                current_account(), category_id=form.category_id.data, content=form.content.data,
                uploads=form.attachments.data, submission_token=form.submission_token.data)[0])
        except IntegrityError:
            # The same form sent twice at the same instant: the other request created the appeal.
            db.session.rollback()
            if (done := _submitted_by_this_enterprise(form.submission_token.data)) is None:
                raise
            return redirect(url_for("portal.appeal_received", appeal_id=done.id), code=303)
        if outcome.done:
            return redirect(url_for("portal.appeal_received", appeal_id=outcome.value.id), code=303)
    return render("portal/act_appeal.html", form=form, error=outcome.error, status=outcome.status(form))


def _submitted_by_this_enterprise(token):
    appeal = by_submission_token(Appeal, token)
    return appeal if appeal is not None and appeal.enterprise_id == current_enterprise().id else None


@bp.get("/appeals/<int:appeal_id>/received")
@portal_required
def appeal_received(appeal_id):
    """The receipt (回执) of an appeal raised online: its number, where it went, what happens next."""
    appeal = _own(Appeal, appeal_id)
    return render("portal/act_appeal_received.html", appeal=appeal)


# --------------------------------------------------------------------------- satisfaction


@bp.route("/appeals/<int:appeal_id>/rate", methods=["GET", "POST"])
@portal_required
def rate_appeal(appeal_id):
    """评价: the enterprise's own 回访 of the reply (不满意 reopens the appeal once)."""
    appeal = _own(Appeal, appeal_id)
    form = SatisfactionForm(data={"version": appeal.version} if request.method == "GET" else None)
    outcome = Outcome(False, error=service.rating_refusal(appeal) if request.method == "GET" else None)
    if form.validate_on_submit():
        outcome = _attempt(form, lambda: service.give_satisfaction(
            current_account(), appeal, satisfaction=form.satisfaction.data, comment=form.comment.data,
            expected_version=form.version.data))
        if outcome.done:
            flash("感谢您的评价。" + ("诉求已退回承办部门重新办理。" if appeal.reopened and appeal.closed_at is None
                                   else "诉求已办结。"), "success")
            return redirect(url_for("portal.appeal_received", appeal_id=appeal.id), code=303)
        appeal = _own(Appeal, appeal_id)
    status = 200 if request.method == "GET" else outcome.status(form)
    return render("portal/act_rate.html", appeal=appeal, form=form, error=outcome.error, status=status)


# --------------------------------------------------------------------------- supplement


@bp.route("/applications/<int:application_id>/supplement", methods=["GET", "POST"])
@portal_required
def supplement(application_id):
    """补正: upload the items the 一次性告知书 names; once all are in, the window checks the file again."""
    application = _own(Application, application_id)
    form = SupplementForm(data={"version": application.version} if request.method == "GET" else None)
    outcome = Outcome(False)
    if form.validate_on_submit():
        uploads = {}
        for key in request.files:
            item_id = key.removeprefix("item_")
            if key.startswith("item_") and item_id.isascii() and item_id.isdigit() and len(item_id) < 10:
                uploads[int(item_id)] = request.files.getlist(key)
        outcome = _attempt(form, lambda: service.answer_supplement(
            current_account(), application, uploads_by_item=uploads, expected_version=form.version.data))
        if outcome.done:
            flash("补正材料已全部提交，窗口将重新审查。" if outcome.value
                  else "已收到上传的材料；告知书所列材料尚未全部补齐，请继续上传。", "success")
            return redirect(url_for("portal.supplement", application_id=application.id), code=303)
        application = _own(Application, application_id)
        form.version.data = application.version
    notice = service.open_notice(application)
    rows = service.notice_rows(application, notice) if notice is not None else []
    return render("portal/act_supplement.html", application=application, notice=notice, rows=rows, form=form,
                  error=outcome.error or _form_level(form), item_errors=outcome.item_errors,
                  status=outcome.status(form))


def _form_level(form):
    """The supplement form has no visible field of its own: its errors (a stale page) show at the top."""
    return " ".join(message for messages in form.errors.values() for message in messages) or None


# --------------------------------------------------------------------------- messages


@bp.get("/messages")
@portal_required
def messages():
    """消息: what changed in the enterprise's cases, newest first (marked read once shown), and the salons
    open for sign-up."""
    enterprise = current_enterprise()
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, has_next = inbox.page(enterprise.id, page_no)
    unread = {m.id for m in rows if m.read_at is None}
    inbox.mark_read(enterprise.id, rows)
    db.session.commit()
    return render("portal/messages.html", rows=rows, unread=unread, page=page_no, has_next=has_next,
                  salons=service.open_salons())


class _MessagesLabel:
    """The menu's 消息 entry with the unread count, computed when the menu is drawn."""

    def __html__(self):
        enterprise = current_enterprise()
        count = inbox.unread_count(enterprise.id) if enterprise is not None else 0
        if not count:
            return str(escape("消息"))
        shown = f"{inbox.UNREAD_CAP}+" if count > inbox.UNREAD_CAP else str(count)
        return str(Markup('消息 <span class="badge hot">{0}<span class="sr-only">条未读</span></span>').format(shown))

    def __str__(self):
        return "消息"


PORTAL_NAV.extend([("网上提诉求", "portal.new_appeal"), (_MessagesLabel(), "portal.messages")])
