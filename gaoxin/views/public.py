"""The public progress lookup: receipt number + last 6 characters of the credit code; no login."""
from flask import Blueprint, render_template

from ..extensions import limiter
from ..forms.public import LookupForm
from ..services import public

bp = Blueprint("public", __name__, url_prefix="/track")

#: One answer for a wrong receipt number and a wrong code, so the page reveals neither.
NOT_FOUND = "未查询到该诉求，请核对回执号和统一社会信用代码后6位。"
TOO_MANY = "查询过于频繁：同一网络地址每分钟最多查询10次，请1分钟后再试。"


def _page(form, case=None, message=None, status=200, headers=None):
    return render_template("public/lookup.html", form=form, case=case, message=message), status, headers or {}


@bp.route("", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def lookup():
    """The lookup form; a match shows status, expected date and the public timeline, anything else one message."""
    form = LookupForm()
    if not form.validate_on_submit():
        return _page(form)
    case = public.find_case(form.receipt_no.data, form.code_tail.data)
    # A fresh form either way: a shared station computer keeps no one's receipt and code, and a
    # wrong receipt and a wrong code render byte for byte the same page.
    blank = LookupForm(formdata=None)
    if case is None:
        return _page(blank, message=NOT_FOUND)
    return _page(blank, case=case)


@bp.errorhandler(429)
def too_many_lookups(exc):
    """Over 10 lookups a minute from one address: the form again, with the reason in Chinese."""
    return _page(LookupForm(formdata=None), message=TOO_MANY, status=429, headers={"Retry-After": "60"})
