"""The one action runner behind every button on a case (appeals and applications alike), and the
file download both kinds share.

Flash policy: after a successful action a plain browser gets a 303 to the case's page and the message is
stored with `flash`, which that next page shows once; an htmx request gets the case's panel with the
message rendered inside it (`flash_now`) and nothing is stored — a stored message would show a second
time on whatever full page comes next. A refused action stores nothing either: the panel (or the page)
comes back with the message, the form as typed, and status 409 (workflow, or someone else was faster)
or 422 (bad input).
"""
from dataclasses import dataclass
from typing import Callable

from flask import abort, flash, redirect, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import defaultload
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..htmx import is_fragment_request, render
from ..models import Enterprise
from ..permissions import get_visible_or_404, require
from ..services import files
from ..services.cases import InputError
from ..workflow import WorkflowError


def commit_once_more_if_stale(operation, stale_message):
    """Run and commit; if someone else committed first, run again on their version so that the user
    is told why (the service then refuses with the reason, e.g. who signed), or told it is stale."""
    try:
        operation()
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        try:
            operation()
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            raise WorkflowError(stale_message) from None


@dataclass(frozen=True)
class CaseKind:
    """How one kind of case is loaded, shown and acted on: the runner needs nothing else."""

    model: type
    #: user → the query of the cases that user may see (permissions.visible_*).
    visible: Callable
    #: The case page; its block "panel" is what htmx swaps after an action.
    template: str
    endpoint: str
    id_arg: str
    #: The HX-Trigger event other regions (lists, badges) listen for after a change.
    changed_event: str
    stale_message: str
    #: (case, **extra) → the template context of the case page.
    context: Callable
    #: Where a plain browser goes after an action that took the case out of the user's sight (a return).
    gone_endpoint: str = "main.home"

    def load(self, case_id, action="view"):
        """The case if the current user may see it; 404 (audited when the case exists) otherwise. The
        enterprise's contacts (eager by default) are read only if something asks: the case page does not."""
        query = self.visible(current_user).options(defaultload(self.model.enterprise).lazyload(Enterprise.contacts))
        return get_visible_or_404(query, case_id, self.model, action=action)

    def page(self, case, status=200, *, just_acted=False, **extra):
        """The case page, or its panel for htmx, freshly loaded: 404 if it left the user's sight, except
        right after the user's own action moved it away (a return to the dispatcher), which they see once."""
        db.session.expire_all()
        case = db.session.get(self.model, case.id) if just_acted else self.load(case.id)
        return render(self.template, block="panel", status=status, **self.context(case, **extra))

    def run(self, case, form_name, form, permission, operation, message, **extra):
        """Run one action: ask permission (403, audited), validate, call `operation(form)` and commit once;
        a refusal re-renders the panel with the message and the form as typed (409/422)."""
        require(permission, case)
        status, error, item_errors = 422, None, {}
        if form.validate_on_submit():
            try:
                commit_once_more_if_stale(lambda: operation(form), self.stale_message)
            except WorkflowError as exc:
                db.session.rollback()
                status, error = 409, str(exc)
            except InputError as exc:
                db.session.rollback()
                item_errors = exc.item_errors
                if exc.field and exc.field in form:
                    form[exc.field].errors.append(str(exc))
                else:
                    error = str(exc)
            else:
                if not is_fragment_request():
                    flash(message, "success")
                    still_visible = self.visible(current_user).where(self.model.id == case.id)
                    if db.session.scalar(still_visible.with_only_columns(self.model.id)) is None:
                        return redirect(url_for(self.gone_endpoint), code=303)
                    return redirect(url_for(self.endpoint, **{self.id_arg: case.id}), code=303)
                response = self.page(case, just_acted=True, flash_now=message)
                response.headers["HX-Trigger"] = self.changed_event
                return response
        elif "version" in form and form.version.errors:
            # Not the user's typing: the page was old or cut short; say so where the panel's messages go.
            status, error = 409, form.version.errors[0]
        item_errors = {**extra.pop("item_errors", {}), **item_errors}
        if item_errors:
            extra["item_errors"] = item_errors
        return self.page(case, status, error=error, open_form=form_name, bound={form_name: form}, **extra)


def add_action_routes(bp, kind, actions):
    """Register POST <prefix>/<id>/<url> for each action: endpoint → (url, form name, form class or
    form(case), permission, operation(case, form), message). Each route loads the case and runs it."""
    for endpoint, (url, form_name, make_form, permission, operation, message) in actions.items():
        bp.add_url_rule(f"/<int:{kind.id_arg}>/{url}", endpoint,
                        _action_view(kind, form_name, make_form, permission, operation, message), methods=["POST"])


def _action_view(kind, form_name, make_form, permission, operation, message):
    @login_required
    def view(**ids):
        case = kind.load(ids[kind.id_arg])
        form = make_form() if isinstance(make_form, type) else make_form(case)
        return kind.run(case, form_name, form, permission, lambda f: operation(case, f), message)

    view.__doc__ = f"{message.split('，')[0].rstrip('。')}: one action on the case, through the action runner."
    return view


def send_attachment(owner_type, owner_id, attachment_id):
    """Send one attachment of a case the caller already loaded through its visibility query, after
    checking its SHA-256; 404 for a file of another case."""
    attachment = files.attachment_of(owner_type, owner_id, attachment_id)
    if attachment is None:
        abort(404)
    try:
        path = files.open_verified(attachment)
    except (files.FileRefused, FileNotFoundError):
        raise RuntimeError(f"attachment {attachment.id} failed its checksum or is missing") from None
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=files.download_name(attachment), max_age=0)
    response.headers["X-Content-SHA256"] = attachment.sha256
    return response
