"""States and outcomes carry their own words: titles, badge classes, is_open; columns hand back the enum;
the check constraints and partial indexes are written from the enums, and the database refuses a bad outcome."""
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from gaoxin import workflow as wf
from gaoxin.models import (
    Appeal, Application, ApplicationItem, Channel, EnterpriseSize, Extension, ExtensionStatus, ImportStatus,
    ItemCheck, Policy, PolicyLevel, ReplyOutcome, Role, Satisfaction, UnitKind,
)
from gaoxin.models.base import LabelledEnum as ModelsLabelledEnum
from gaoxin.models.base import enum_check
from gaoxin.services.policies import PeriodStatus
from gaoxin.workflow import (
    ANSWERED_APPEAL_STATES, DEPARTMENT_APPEAL_STATES, OPEN_APPEAL_STATES, AppealAction, AppealState,
    ApplicationAction, ApplicationOutcome, ApplicationState, LabelledEnum,
)

EVERY_ENUM = [AppealState, AppealAction, ApplicationState, ApplicationAction, ApplicationOutcome, Channel,
              ReplyOutcome, Satisfaction, ExtensionStatus, ItemCheck, PolicyLevel, UnitKind, Role, EnterpriseSize,
              ImportStatus, PeriodStatus]
BADGE_CLASSES = {"", "status-ok", "status-warn", "status-bad"}


# --------------------------------------------------------------------------- the enums alone


def test_there_is_one_labelled_enum_base_and_every_enum_derives_from_it():
    assert ModelsLabelledEnum is LabelledEnum
    assert all(issubclass(e, LabelledEnum) for e in EVERY_ENUM)


@pytest.mark.parametrize("enum_cls", EVERY_ENUM, ids=lambda e: e.__name__)
def test_every_member_has_a_chinese_title_and_a_known_badge_class(enum_cls):
    assert set(enum_cls.__titles__) == {m.value for m in enum_cls}, "titles are keyed by every value, no other"
    assert set(enum_cls.__css_classes__) <= {m.value for m in enum_cls}
    for member in enum_cls:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in member.title), member
        assert member.css_class in BADGE_CLASSES
    assert enum_cls.choices() == [(m.value, m.title) for m in enum_cls]


@pytest.mark.parametrize("enum_cls", EVERY_ENUM, ids=lambda e: e.__name__)
def test_a_member_stands_in_for_its_stored_value(enum_cls):
    for member in enum_cls:
        assert str(member) == f"{member}" == member.value
        assert member == member.value and member.value in {member} and member in {member.value}
        assert {member.value: 1}[member] == 1
        assert enum_cls(member.value) is member


def test_an_action_whose_name_differs_from_its_value_still_matches_the_value():
    assert AppealAction.return_ == "return" and AppealAction.return_ in {"return"}
    assert AppealAction.return_.title == "退单"


def test_appeal_states_have_the_words_the_pages_show():
    assert [s.title for s in AppealState] == ["已登记", "待派单", "待签收", "办理中", "已答复", "已办结", "已撤回"]
    assert {s: s.css_class for s in AppealState} == {
        AppealState.registered: "", AppealState.awaiting_dispatch: "status-warn",
        AppealState.dispatched: "status-warn", AppealState.in_progress: "", AppealState.replied: "status-ok",
        AppealState.closed: "status-ok", AppealState.withdrawn: "",
    }
    assert [s for s in AppealState if not s.is_open] == [AppealState.closed, AppealState.withdrawn]
    assert OPEN_APPEAL_STATES == {AppealState.registered, AppealState.awaiting_dispatch, AppealState.dispatched,
                                  AppealState.in_progress, AppealState.replied}
    assert DEPARTMENT_APPEAL_STATES == (AppealState.dispatched, AppealState.in_progress)
    assert ANSWERED_APPEAL_STATES == (AppealState.replied, AppealState.closed)


def test_application_states_have_the_words_the_pages_show():
    assert {s: s.css_class for s in ApplicationState} == {
        ApplicationState.draft: "", ApplicationState.submitted: "status-warn",
        ApplicationState.awaiting_supplement: "status-warn", ApplicationState.refused: "status-bad",
        ApplicationState.accepted: "", ApplicationState.approved: "status-ok", ApplicationState.rejected: "status-bad",
        ApplicationState.result_issued: "status-ok", ApplicationState.disbursed: "status-ok",
    }
    assert [s for s in ApplicationState if not s.is_open] == [ApplicationState.refused, ApplicationState.disbursed]


@pytest.mark.parametrize("states, transitions", [
    (AppealState, wf.APPEAL_TRANSITIONS), (ApplicationState, wf.APPLICATION_TRANSITIONS),
], ids=["appeal", "application"])
def test_a_state_is_open_exactly_when_some_action_moves_it_on(states, transitions):
    for state in states:
        assert state.is_open == any(s is state for s, _ in transitions), state


def test_an_application_outcome_is_an_enum_with_titles_and_badges():
    assert [(o.value, o.title, o.short_title, o.css_class) for o in ApplicationOutcome] == [
        ("approved", "审核通过", "通过", "status-ok"),
        ("rejected", "审核不通过", "不通过", "status-bad"),
    ]


def test_the_old_label_mappings_are_derived_from_the_enums():
    assert wf.APPEAL_STATE_LABELS == {s: s.title for s in AppealState}
    assert wf.APPLICATION_ACTION_LABELS[ApplicationAction.issue_result] == "出件"


def test_extension_items_and_periods_know_their_badges():
    assert [s for s in ExtensionStatus if s.is_open] == [ExtensionStatus.pending]
    assert [c for c in ItemCheck if c.needs_supplement] == [ItemCheck.missing, ItemCheck.faulty]
    assert ItemCheck.ok.css_class == "status-ok" and ItemCheck.faulty.css_class == "status-bad"
    assert [(p.title, p.css_class) for p in PeriodStatus] == [
        ("申报中", "status-ok"), ("未开始", "status-warn"), ("已截止", "")]
    assert [s for s in ImportStatus if s.is_open] == [ImportStatus.pending, ImportStatus.running]


# --------------------------------------------------------------------------- SQL written from the enums


def test_check_constraints_and_partial_indexes_are_written_from_the_enums():
    assert str(enum_check("outcome", ApplicationOutcome, "outcome").sqltext) == "outcome IN ('approved', 'rejected')"
    assert str(enum_check("satisfaction", Satisfaction, "satisfaction", nullable=True).sqltext) == (
        "satisfaction IS NULL OR satisfaction IN ('satisfied', 'basically', 'unsatisfied')")
    checks = {c.name: str(c.sqltext) for c in Application.__table__.constraints if c.name and "ck_" in c.name}
    assert checks["ck_applications_outcome"] == "outcome IN ('approved', 'rejected')"
    where = {ix.name: str(ix.dialect_options["sqlite"]["where"].compile(compile_kwargs={"literal_binds": True}))
             for ix in Appeal.__table__.indexes if ix.dialect_options["sqlite"]["where"] is not None}
    assert where["ix_appeals_open_work"] == "appeals.state = 'dispatched' OR appeals.state = 'in_progress'"
    assert where["ix_appeals_done_replied"] == "appeals.state = 'replied' OR appeals.state = 'closed'"


# --------------------------------------------------------------------------- on the database


@pytest.fixture
def application(db, make_enterprise, make_user, make_unit):
    window, dept = make_user(Role.window), make_unit(UnitKind.department)
    policy = Policy(code="GX-ENUM-01", title="枚举测试政策", level=PolicyLevel.district, department_id=dept.id,
                    max_amount=Decimal("100000.00"))
    db.session.add(policy)
    db.session.flush()
    application = Application(
        enterprise_id=make_enterprise().id, policy_id=policy.id, department_id=dept.id,
        declared_amount=Decimal("1000.00"), intake_unit_id=window.unit_id, intake_by_id=window.id,
    )
    db.session.add(application)
    db.session.commit()
    return application


def test_a_new_application_starts_as_a_draft_enum_and_reads_back_as_one(db, application):
    assert application.state is ApplicationState.draft and application.outcome is None
    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert stored.state is ApplicationState.draft and stored.state.title == "草稿"


def test_a_string_assigned_to_a_state_or_outcome_becomes_the_enum(db, application):
    application.state, application.outcome = "accepted", "approved"
    assert application.state is ApplicationState.accepted and application.outcome is ApplicationOutcome.approved
    db.session.commit()
    assert db.session.execute(text("SELECT state, outcome FROM applications")).one() == ("accepted", "approved")
    assert db.session.scalar(select(Application.id).where(Application.outcome == ApplicationOutcome.approved)) \
        == application.id
    assert db.session.scalar(select(Application.id).where(Application.outcome == "approved")) == application.id


def test_a_filter_on_an_unknown_state_finds_nothing_instead_of_failing(db, application):
    assert db.session.scalar(select(Application.id).where(Application.state == "no-such-state")) is None


@pytest.mark.parametrize("column, value", [("outcome", "maybe"), ("state", "lost")])
def test_the_database_refuses_a_value_outside_the_enum(db, application, column, value):
    setattr(application, column, value)
    assert getattr(application, column) == value  # kept as typed, for the check constraint to refuse
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    stored = db.session.execute(text("SELECT state, outcome FROM applications")).one()
    assert stored == ("draft", None)


def test_the_database_refuses_a_bad_outcome_written_behind_the_models_back(db, application):
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE applications SET outcome = 'pending' WHERE id = :id"), {"id": application.id})
        db.session.flush()
    db.session.rollback()
    assert db.session.execute(text("SELECT outcome FROM applications")).scalar() is None


def test_item_checks_and_extensions_read_back_as_enums(db, application):
    item = ApplicationItem(application_id=application.id, item_id=_policy_item(db, application).id,
                           check_status="missing")
    db.session.add(item)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(ApplicationItem, item.id)
    assert stored.check_status is ItemCheck.missing and stored.flagged
    assert Extension.__table__.c.status.type.enum_cls is ExtensionStatus


def _policy_item(db, application):
    from gaoxin.models import PolicyItem

    item = PolicyItem(policy_id=application.policy_id, name="营业执照", position=0)
    db.session.add(item)
    db.session.flush()
    return item
