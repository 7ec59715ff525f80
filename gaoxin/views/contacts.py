"""Staff correct or remove an enterprise's contact (修改 / 移除联系人) from the enterprise page; plain forms."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.contacts import ContactForm, RemoveContactForm
from ..htmx import render
from ..models import Enterprise
from ..permissions import get_visible_or_404, require, visible_enterprises
from ..services import contacts
from ..services.enterprises import contact_of

bp = Blueprint("contacts", __name__, url_prefix="/enterprises/<int:enterprise_id>/contacts")


def _load(enterprise_id, contact_id):
    """The enterprise (visible, editable by the user) and its contact — even a removed one — or 404."""
    enterprise = get_visible_or_404(visible_enterprises(current_user), enterprise_id, Enterprise)
    require("enterprise.edit", enterprise)
    contact = contact_of(enterprise, contact_id)
    if contact is None:
        abort(404)
    return enterprise, contact


def _page(enterprise, contact, form, remove_form, stale=None):
    status = 409 if stale else (422 if form.errors else 200)
    return render("contacts/edit.html", enterprise=enterprise, contact=contact, form=form, remove_form=remove_form,
                  stale=stale, latest=contacts.latest(contact) if stale else None, status=status)


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit(enterprise_id, contact_id):
    """Correct a contact's name, mobile or title; cases recorded with it keep the contact as it was."""
    enterprise, contact = _load(enterprise_id, contact_id)
    form = ContactForm(obj=contact if request.method == "GET" else None)
    remove_form = RemoveContactForm(formdata=None, version=contact.version)
    if form.validate_on_submit():
        try:
            contacts.update(enterprise, contact, name=form.name.data, mobile=form.mobile.data,
                            title=form.title.data, seen_version=form.version.data,
                            user=current_user._get_current_object())
        except contacts.StaleContact as exc:
            db.session.rollback()
            return _page(*_load(enterprise_id, contact_id), form, remove_form, stale=str(exc))
        db.session.commit()
        flash(f"联系人“{form.name.data}”已保存。", "success")
        return redirect(url_for("enterprises.show", enterprise_id=enterprise.id), code=303)
    if contact.is_removed and not form.errors:
        return _page(enterprise, contact, form, remove_form, stale=contacts.StaleContact().args[0])
    return _page(enterprise, contact, form, remove_form)


@bp.post("/<int:contact_id>/remove")
@login_required
def remove(enterprise_id, contact_id):
    """Remove a contact: no longer offered at intake; its cases keep naming it."""
    enterprise, contact = _load(enterprise_id, contact_id)
    remove_form = RemoveContactForm()
    if remove_form.validate_on_submit():
        try:
            contacts.remove(enterprise, contact, seen_version=remove_form.version.data,
                            user=current_user._get_current_object())
        except contacts.StaleContact as exc:
            db.session.rollback()
            enterprise, contact = _load(enterprise_id, contact_id)
            form = ContactForm(formdata=None, obj=contact)
            return _page(enterprise, contact, form, remove_form, stale=str(exc))
        db.session.commit()
        flash(f"已移除联系人“{contact.name}”；此前登记的诉求和申报仍显示该联系人。", "success")
        return redirect(url_for("enterprises.show", enterprise_id=enterprise.id), code=303)
    abort(400)

