"""我的事项: an enterprise's own appeals and applications, read as the public lookup reads them (state, due date,
public timeline, reply; no internal notes, no staff names, no co-handlers' opinions), and its notices.

Every query starts from the account's enterprise; a case of another enterprise raises NotVisible (404, audited).
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from ..extensions import db
from ..models import Appeal, AppealCategory, Application, Policy
from ..permissions import NotVisible
from ..workflow import AppealState, ApplicationState
from . import applications as application_service
from .pages import fetch_page
from .public import application_expected_text, appeal_expected_text

#: Rows per page of 我的事项 (a phone screen or two).
PAGE_SIZE = 20
#: The lists of 我的事项: tab → Chinese title.
KINDS = {"appeals": "诉求", "applications": "政策申报"}


@dataclass(frozen=True)
class CaseRow:
    """One line of 我的事项."""

    id: int
    receipt_no: str
    subject: str
    state: object
    due_on: date | None
    created_at: datetime
    merged: bool = False

    @property
    def status_title(self):
        return "已并案" if self.merged else self.state.title

    @property
    def expected_text(self):
        if self.merged:
            return "随主诉求办理"
        if isinstance(self.state, AppealState):
            return appeal_expected_text(self)
        return application_expected_text(self)

    @property
    def review_due_on(self):
        # application_expected_text reads an application's review due date under this name
        return self.due_on


def appeal_rows(enterprise, page):
    """(rows, has_next): the enterprise's appeals, newest first (index ix_appeals_enterprise_created)."""
    query = (select(Appeal.id, Appeal.receipt_no, AppealCategory.name, Appeal.state, Appeal.due_on, Appeal.created_at,
                    Appeal.merged_into_id.is_not(None))
             .join(AppealCategory, AppealCategory.id == Appeal.category_id)
             .where(Appeal.enterprise_id == enterprise.id)
             .order_by(Appeal.created_at.desc(), Appeal.id.desc()))
    rows, has_next = fetch_page(query, page, PAGE_SIZE, rows=True)
    return [CaseRow(i, no, subject, AppealState(state), due, at, bool(merged))
            for i, no, subject, state, due, at, merged in rows], has_next


def application_rows(enterprise, page):
    """(rows, has_next): the enterprise's submitted applications (no drafts), newest first."""
    query = (select(Application.id, Application.receipt_no, Policy.title, Application.state,
                    Application.review_due_on, Application.created_at)
             .join(Policy, Policy.id == Application.policy_id)
             .where(Application.enterprise_id == enterprise.id, Application.state != ApplicationState.draft.value)
             .order_by(Application.created_at.desc(), Application.id.desc()))
    rows, has_next = fetch_page(query, page, PAGE_SIZE, rows=True)
    return [CaseRow(i, no, subject, ApplicationState(state), due, at) for i, no, subject, state, due, at in rows], has_next


def load_own(model, case_id, enterprise):
    """The enterprise's own appeal or application `case_id`; another enterprise's → NotVisible (404, audited),
    a draft or a missing one → 404."""
    case = db.session.get(model, case_id)
    if case is None or (model is Application and case.state == ApplicationState.draft):
        raise NotFound()
    if case.enterprise_id != enterprise.id:
        raise NotVisible("portal.case", model.__name__, case_id)
    return case


def notice_links(application):
    """[(kind, title, SupplementNotice or None)]: every notice of the application the enterprise may print;
    each 一次性告知书 on its own, oldest first."""
    notices = application_service.notices_of(application)
    links = []
    for kind, title in application_service.NOTICE_TITLES.items():
        if not application_service.notice_available(application, kind, notices):
            continue
        if kind == "supplement":
            links.extend((kind, title, n) for n in notices)
        else:
            links.append((kind, title, None))
    return links
