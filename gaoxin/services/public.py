"""Public progress lookup: find a case by receipt number and credit-code tail; expose only what the enterprise may read.

Nothing here raises: a receipt that does not exist, a prefix nobody handles and a wrong code all give None,
so that the page cannot tell a visitor which of the two was wrong.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Appeal, Application, Enterprise, Event
from ..registry_text import mask_mobile
from ..workflow import AppealState, ApplicationOutcome, ApplicationState
from .money import format_money


@dataclass(frozen=True)
class PublicEvent:
    """One public timeline entry: when, and the text written for the enterprise."""

    at: datetime
    text: str


@dataclass(frozen=True)
class PublicCase:
    """What the lookup page shows of any kind of case (an appeal now, a policy application later)."""

    kind_title: str
    receipt_no: str
    subject_label: str
    subject: str
    status_title: str
    status_class: str
    enterprise_name: str
    registered_at: datetime
    expected_text: str
    result_title: str = ""
    result_text: str = ""
    contact_mobile: str = ""
    timeline: list[PublicEvent] = field(default_factory=list)


def normalize_receipt(value):
    """Upper-case, without spaces: what a receipt number is stored as."""
    return "".join((value or "").split()).upper()


def find_case(receipt_no, code_tail):
    """The case with this receipt number whose enterprise's credit code ends with `code_tail`, or None."""
    receipt_no = normalize_receipt(receipt_no)
    code_tail = normalize_receipt(code_tail)
    finder = FINDERS.get(receipt_no[:2])
    if finder is None or len(code_tail) != 6:
        return None
    return finder(receipt_no, code_tail)


def _date(value):
    return f"{value:%Y-%m-%d}" if isinstance(value, date) else ""


def public_timeline(owner):
    """The public entries of one case's timeline (`owner` selects it: Event.appeal_id == id), oldest first."""
    rows = db.session.execute(
        select(Event.at, Event.public_text)
        .where(owner, Event.public.is_(True), Event.public_text.is_not(None))
        .order_by(Event.id)
    ).all()
    return [PublicEvent(at, text) for at, text in rows]


def appeal_expected_text(appeal):
    # The enterprise reads a date it can plan with; before a department has it there is none yet.
    state = AppealState(appeal.state)
    if state.with_department and appeal.due_on:
        return _date(appeal.due_on)
    if state in (AppealState.registered, AppealState.awaiting_dispatch):
        return "待分派"
    return {
        AppealState.replied: "已答复",
        AppealState.closed: "已办结",
        AppealState.withdrawn: "已撤回",
    }.get(state, "")


def _appeal_status_class(appeal):
    if AppealState(appeal.state).is_answered:
        return "status-ok"
    if appeal.state == AppealState.withdrawn:
        return ""
    return "status-warn"


def _find_case(model, receipt_no, code_tail):
    """The appeal or application with this receipt number whose enterprise's credit code ends so."""
    return db.session.scalar(select(model).join(model.enterprise).where(
        model.receipt_no == receipt_no, Enterprise.credit_code.endswith(code_tail, autoescape=True)))


def _find_appeal(receipt_no, code_tail):
    appeal = _find_case(Appeal, receipt_no, code_tail)
    return describe_appeal(appeal) if appeal is not None else None


def describe_appeal(appeal):
    """What the enterprise may read of `appeal` (the lookup page and the enterprise portal alike)."""
    # 并案: a merged duplicate reads the main case's progress and answer (never the main enterprise's name).
    main = appeal.merged_into if appeal.is_merged else None
    answered = main or appeal
    replied = AppealState(answered.state).is_answered and answered.reply_outcome
    mobile = appeal.contact.mobile if appeal.contact is not None else None
    return PublicCase(
        kind_title="企业诉求",
        receipt_no=appeal.receipt_no,
        subject_label="诉求类别",
        subject=appeal.category.name,
        status_title=f"已并案至 {main.receipt_no}" if main else appeal.state_title,
        status_class=_appeal_status_class(answered),
        enterprise_name=appeal.enterprise.name,
        registered_at=appeal.created_at,
        expected_text=(f"随{main.receipt_no}办理：" + appeal_expected_text(main)) if main else appeal_expected_text(appeal),
        result_title=answered.outcome_title if replied else "",
        result_text=(answered.reply_text or "") if replied else "",
        contact_mobile=mask_mobile(mobile) if mobile else "",
        timeline=public_timeline(Event.appeal_id == appeal.id),
    )


def application_expected_text(application):
    state = ApplicationState(application.state)
    if state is ApplicationState.accepted and application.review_due_on:
        return _date(application.review_due_on)
    return {
        ApplicationState.submitted: "待窗口形式审查",
        ApplicationState.awaiting_supplement: "待补正材料",
        ApplicationState.refused: "不予受理",
        ApplicationState.approved: "审核已完成，待窗口出件",
        ApplicationState.rejected: "审核已完成，待窗口出件",
        ApplicationState.result_issued: "已出件",
        ApplicationState.disbursed: "已拨付",
    }.get(state, "")


def _application_result(application):
    """The outcome the enterprise may read once the window has handed the result out."""
    if application.state not in (ApplicationState.result_issued.value, ApplicationState.disbursed.value):
        if application.state == ApplicationState.refused.value:
            return "不予受理", application.decision_reason or ""
        return "", ""
    if application.outcome == ApplicationOutcome.approved:
        text = f"核定金额 {format_money(application.approved_amount)}"
        if application.disbursed_amount is not None:
            text += f"；已于 {_date(application.disbursed_on)} 拨付 {format_money(application.disbursed_amount)}"
        return ApplicationOutcome.approved.title, text + "。"
    return ApplicationOutcome.rejected.title, application.decision_reason or ""


def _find_application(receipt_no, code_tail):
    application = _find_case(Application, receipt_no, code_tail)
    return describe_application(application) if application is not None else None


def describe_application(application):
    """What the enterprise may read of `application` (the lookup page and the enterprise portal alike)."""
    result_title, result_text = _application_result(application)
    mobile = application.contact.mobile if application.contact is not None else None
    done = application.state in (ApplicationState.result_issued.value, ApplicationState.disbursed.value)
    return PublicCase(
        kind_title="政策兑现申报",
        receipt_no=application.receipt_no,
        subject_label="申报政策",
        subject=application.policy.title,
        status_title=application.state_title,
        status_class="status-ok" if done else ("" if application.state == ApplicationState.refused else "status-warn"),
        enterprise_name=application.enterprise.name,
        registered_at=application.submitted_at or application.created_at,
        expected_text=application_expected_text(application),
        result_title=result_title,
        result_text=result_text,
        contact_mobile=mask_mobile(mobile) if mobile else "",
        timeline=public_timeline(Event.application_id == application.id),
    )


#: Receipt-number prefix → the finder for that kind of case: SQ = appeal (诉求), SB = policy application (申报).
FINDERS = {"SQ": _find_appeal, "SB": _find_application}
