"""The audit log, read-only, for the auditor: filter and page without counting the whole table, the chain's
last check (and a button to check it now), and users who keep being refused (越权尝试)."""
from datetime import timedelta

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.audit import AuditFilterForm
from ..htmx import is_fragment_request, render
from ..localtime import local_midnight, local_today
from ..models.audit import names_of
from ..permissions import require
from ..services import accounts
from ..services import audit as audit_service
from ..services.admin import contains_pattern
from ..services.pages import fetch_page

bp = Blueprint("audit", __name__, url_prefix="/audit")

#: Entries per page; one more is fetched to know whether there is a next page.
PER_PAGE = 50
#: Deep pages cost an OFFSET scan; nobody pages this far by hand (narrow the dates instead).
MAX_PAGE = 2000
#: Without a start date, the repeated-refusal flag looks at this many days up to the end date.
BURST_DEFAULT_DAYS = 30


def _filters(form):
    """The filters the auditor gave that are valid (an unreadable date is shown as an error and ignored)."""
    values = {}
    for name in ("action", "result", "username", "date_from", "date_to", "object_type", "object_id"):
        field = form[name]
        data = field.data.strip() if isinstance(field.data, str) else field.data
        if data and not field.errors:
            values[name] = data
    return values


@bp.get("")
@login_required
def index():
    """The audit log, 50 entries a page; htmx swaps only the results when the filters change."""
    require("audit.view")
    form = AuditFilterForm(formdata=request.args)
    form.validate()
    filters = _filters(form)
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    rows, has_next = fetch_page(audit_service.entries_query(**filters), page, PER_PAGE)
    return render(
        "audit/index.html", block="results", form=form, entries=rows, page=page, names=names_of(rows),
        has_next=has_next and page < MAX_PAGE,
        filter_args={name: (str(value) if value else None) for name, value in filters.items()},
        chain=audit_service.chain_status(), bursts=_bursts(filters), resets=_suspicious_resets(filters),
    )


def _period(filters):
    """The days the auditor's panels look at: the filtered dates; no start date means BURST_DEFAULT_DAYS."""
    last = filters.get("date_to") or local_today()
    return filters.get("date_from") or last - timedelta(days=BURST_DEFAULT_DAYS - 1), last


def _bursts(filters):
    """On the 越权尝试 filter: users refused ≥ 20 times within 10 minutes in the filtered period."""
    if filters.get("action") != "access_denied":
        return None
    first, last = _period(filters)
    username = filters.get("username")
    found = audit_service.denial_bursts(local_midnight(first), local_midnight(last + timedelta(days=1)),
                                        contains_pattern(username) if username else None)
    return {"first": first, "last": last, "users": found, "days": BURST_DEFAULT_DAYS,
            "threshold": audit_service.DENIAL_BURST,
            "minutes": int(audit_service.DENIAL_WINDOW.total_seconds() // 60)}


def _suspicious_resets(filters):
    """On the 重置密码 filter: resets followed by the user's log-in from the resetting admin's address."""
    if filters.get("action") != "password_reset":
        return None
    first, _ = _period(filters)
    return {"first": first, "found": accounts.suspicious_resets(local_midnight(first)), "days": BURST_DEFAULT_DAYS}


@bp.post("/verify")
@login_required
def verify():
    """Check the whole chain now and keep the result; htmx gets the status panel, a browser a redirect."""
    require("audit.view")
    check = audit_service.verify_chain()
    audit_service.save_check(check, username=current_user.username)
    db.session.commit()
    if not is_fragment_request():
        flash(check.summary, "success" if check.ok else "error")
        return redirect(url_for("audit.index"))
    return render("audit/index.html", block="chain_status", chain=audit_service.chain_status())
