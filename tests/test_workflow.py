"""Tests for gaoxin.workflow: appeal and application state machines and the working-day calendar."""

import importlib.util
import pathlib
import sys
from datetime import date, datetime

import pytest

# Load by path so the test needs neither the Flask app nor a gaoxin package __init__.
_PATH = pathlib.Path(__file__).resolve().parents[1] / "gaoxin" / "workflow.py"
_spec = importlib.util.spec_from_file_location("gaoxin_workflow_under_test", _PATH)
wf = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = wf
_spec.loader.exec_module(wf)

S, A = wf.AppealState, wf.AppealAction
PS, PA = wf.ApplicationState, wf.ApplicationAction
OPEN = [S.registered, S.awaiting_dispatch, S.dispatched, S.in_progress, S.replied]

# Written out by hand, not derived from the module, so a wrong table fails here.
EXPECTED_APPEAL = {
    (S.registered, A.route): S.dispatched,
    (S.registered, A.queue): S.awaiting_dispatch,
    (S.awaiting_dispatch, A.dispatch): S.dispatched,
    (S.dispatched, A.dispatch): S.dispatched,
    (S.in_progress, A.dispatch): S.dispatched,
    (S.dispatched, A.sign): S.in_progress,
    (S.dispatched, A.return_): S.awaiting_dispatch,
    (S.in_progress, A.return_): S.awaiting_dispatch,
    (S.in_progress, A.assign): S.in_progress,
    (S.in_progress, A.extend_request): S.in_progress,
    (S.in_progress, A.extend_approve): S.in_progress,
    (S.in_progress, A.extend_refuse): S.in_progress,
    (S.dispatched, A.supervise): S.dispatched,
    (S.in_progress, A.supervise): S.in_progress,
    (S.in_progress, A.co_opinion): S.in_progress,
    (S.in_progress, A.reply): S.replied,
    (S.replied, A.follow_up_satisfied): S.closed,
    (S.replied, A.follow_up_unsatisfied): S.in_progress,
    **{(s, A.note): s for s in OPEN},
    **{(s, A.withdraw): S.withdrawn for s in OPEN},
}

EXPECTED_APPLICATION = {
    (PS.draft, PA.submit): PS.submitted,
    (PS.submitted, PA.supplement): PS.awaiting_supplement,
    (PS.awaiting_supplement, PA.resubmit): PS.submitted,
    (PS.submitted, PA.accept): PS.accepted,
    (PS.submitted, PA.refuse): PS.refused,
    (PS.accepted, PA.approve): PS.approved,
    (PS.accepted, PA.reject): PS.rejected,
    (PS.accepted, PA.back_to_supplement): PS.awaiting_supplement,
    (PS.approved, PA.issue_result): PS.result_issued,
    (PS.rejected, PA.issue_result): PS.result_issued,
    (PS.result_issued, PA.disburse): PS.disbursed,
}


# ----------------------------------------------------------------------------- appeals


def test_appeal_labels():
    assert [s.title for s in S] == ["已登记", "待派单", "待签收", "办理中", "已答复", "已办结", "已撤回"]
    assert A.return_.value == "return"
    assert A("return") is A.return_
    assert [a.title for a in A] == [
        "登记派单", "转调度中心", "派单", "签收", "退单", "指派", "内部备注", "申请延期",
        "同意延期", "不同意延期", "督办", "协办意见", "答复", "回访满意", "回访不满意", "撤回",
    ]
    assert wf.OPEN_APPEAL_STATES == set(OPEN)


def test_appeal_table_is_exactly_expected():
    assert wf.APPEAL_TRANSITIONS == EXPECTED_APPEAL


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [(s, a, t) for (s, a), t in EXPECTED_APPEAL.items()],
    ids=[f"{s.value}-{a.value}" for s, a in EXPECTED_APPEAL],
)
def test_appeal_allowed(state, action, expected):
    assert wf.appeal_next_state(state, action) is expected
    # Raw strings from the database work the same way.
    assert wf.appeal_next_state(state.value, action.value) is expected
    assert action in wf.appeal_actions(state)


@pytest.mark.parametrize(
    ("state", "action", "message"),
    [
        (S.closed, A.sign, "当前状态“已办结”不能执行“签收”。"),
        (S.withdrawn, A.withdraw, "当前状态“已撤回”不能执行“撤回”。"),
        (S.registered, A.reply, "当前状态“已登记”不能执行“答复”。"),
        (S.awaiting_dispatch, A.sign, "当前状态“待派单”不能执行“签收”。"),
        (S.dispatched, A.reply, "当前状态“待签收”不能执行“答复”。"),
        (S.replied, A.return_, "当前状态“已答复”不能执行“退单”。"),
        (S.closed, A.note, "当前状态“已办结”不能执行“内部备注”。"),
        (S.in_progress, A.sign, "当前状态“办理中”不能执行“签收”。"),
        (S.awaiting_dispatch, A.supervise, "当前状态“待派单”不能执行“督办”。"),
    ],
)
def test_appeal_refused(state, action, message):
    with pytest.raises(wf.WorkflowError) as exc:
        wf.appeal_next_state(state, action)
    assert str(exc.value) == message
    assert action not in wf.appeal_actions(state)


def test_every_other_appeal_pair_is_refused():
    refused = [(s, a) for s in S for a in A if (s, a) not in EXPECTED_APPEAL]
    assert len(refused) == 7 * 16 - len(EXPECTED_APPEAL)
    for s, a in refused:
        with pytest.raises(wf.WorkflowError, match=f"“{s.title}”"):
            wf.appeal_next_state(s, a)


def test_appeal_actions_lists():
    assert wf.appeal_actions(S.registered) == [A.route, A.queue, A.note, A.withdraw]
    assert wf.appeal_actions(S.replied) == [
        A.note, A.follow_up_satisfied, A.follow_up_unsatisfied, A.withdraw,
    ]
    assert wf.appeal_actions(S.closed) == []
    assert wf.appeal_actions(S.withdrawn) == []


def test_unsatisfied_follow_up_reopens_only_once():
    first = wf.appeal_next_state(S.replied, A.follow_up_unsatisfied, reopened_before=False)
    assert first is S.in_progress
    second = wf.appeal_next_state(S.replied, A.follow_up_unsatisfied, reopened_before=True)
    assert second is S.closed
    # reopened_before only matters for the unsatisfied follow-up.
    assert wf.appeal_next_state(S.replied, A.follow_up_satisfied, reopened_before=True) is S.closed
    assert wf.appeal_next_state(S.in_progress, A.reply, reopened_before=True) is S.replied


def test_unknown_values_raise_workflow_error():
    with pytest.raises(wf.WorkflowError, match="未知"):
        wf.appeal_next_state("nonsense", A.sign)
    with pytest.raises(wf.WorkflowError, match="未知"):
        wf.application_next_state(PS.draft, "nonsense")


# ----------------------------------------------------------------------------- applications


def test_application_labels():
    assert [s.title for s in PS] == [
        "草稿", "待形式审查", "待补正", "不予受理", "已受理（待部门审查）",
        "审核通过", "审核不通过", "已出件", "已拨付",
    ]
    assert set(wf.APPLICATION_ACTION_LABELS) == set(PA)


def test_application_table_is_exactly_expected():
    assert wf.APPLICATION_TRANSITIONS == EXPECTED_APPLICATION


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [(s, a, t) for (s, a), t in EXPECTED_APPLICATION.items()],
    ids=[f"{s.value}-{a.value}" for s, a in EXPECTED_APPLICATION],
)
def test_application_allowed(state, action, expected):
    assert wf.application_next_state(state, action, approved=True) is expected
    assert action in wf.application_actions(state)


@pytest.mark.parametrize(
    ("state", "action", "message"),
    [
        (PS.draft, PA.accept, "当前状态“草稿”不能执行“受理”。"),
        (PS.refused, PA.resubmit, "当前状态“不予受理”不能执行“补正后提交”。"),
        (PS.submitted, PA.approve, "当前状态“待形式审查”不能执行“审核通过”。"),
        (PS.approved, PA.disburse, "当前状态“审核通过”不能执行“拨付”。"),
        (PS.disbursed, PA.disburse, "当前状态“已拨付”不能执行“拨付”。"),
        (PS.awaiting_supplement, PA.accept, "当前状态“待补正”不能执行“受理”。"),
    ],
)
def test_application_refused(state, action, message):
    with pytest.raises(wf.WorkflowError) as exc:
        wf.application_next_state(state, action, approved=True)
    assert str(exc.value) == message


def test_every_other_application_pair_is_refused():
    for s in PS:
        for a in PA:
            if (s, a) not in EXPECTED_APPLICATION:
                with pytest.raises(wf.WorkflowError, match=f"“{s.title}”"):
                    wf.application_next_state(s, a, approved=True)


def test_disburse_only_when_approved():
    assert wf.application_next_state(PS.result_issued, PA.disburse, approved=True) is PS.disbursed
    with pytest.raises(wf.WorkflowError, match="审核未通过的申报不能拨付"):
        wf.application_next_state(PS.result_issued, PA.disburse, approved=False)
    # The default is the safe one.
    with pytest.raises(wf.WorkflowError):
        wf.application_next_state(PS.result_issued, PA.disburse)
    assert wf.application_actions(PS.result_issued) == [PA.disburse]
    assert wf.application_actions(PS.result_issued, approved=True) == [PA.disburse]
    assert wf.application_actions(PS.result_issued, approved=False) == []


def test_rejected_application_path():
    state = PS.draft
    for action in (PA.submit, PA.supplement, PA.resubmit, PA.accept, PA.reject, PA.issue_result):
        state = wf.application_next_state(state, action)
    assert state is PS.result_issued


# ----------------------------------------------------------------------------- working days

# chinesecalendar 1.11.0, 2026: 中秋 holidays 09-25 (Fri) .. 09-27 (Sun); 国庆 holidays
# 10-01 (Thu) .. 10-07 (Wed); swapped working days Sun 09-20 and Sat 10-10.

CAL = wf.WorkingCalendar()


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 9, 20), True),   # Sunday, swapped working day
        (date(2026, 9, 25), False),  # Friday, Mid-autumn holiday
        (date(2026, 9, 30), True),
        (date(2026, 10, 1), False),
        (date(2026, 10, 5), False),  # Monday inside the holiday
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, swapped working day
        (date(2026, 10, 11), False),
        (date(2027, 1, 1), True),    # unknown year: plain Friday
        (date(2027, 1, 2), False),   # unknown year: Saturday
        (date(2003, 1, 1), True),    # before the data: Wednesday
    ],
)
def test_is_workday(d, expected):
    assert CAL.is_workday(d) is expected


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (date(2026, 9, 30), 0, date(2026, 9, 30)),
        (date(2026, 9, 30), 1, date(2026, 10, 8)),   # first working day after National Day
        (date(2026, 9, 30), 2, date(2026, 10, 9)),
        (date(2026, 9, 30), 3, date(2026, 10, 10)),  # swapped Saturday counts
        (date(2026, 9, 30), 4, date(2026, 10, 12)),
        (date(2026, 9, 30), 5, date(2026, 10, 13)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),   # Friday -> swapped Sunday
        (date(2026, 9, 24), 1, date(2026, 9, 28)),   # over Mid-autumn
        (date(2026, 11, 13), 1, date(2026, 11, 16)), # ordinary Friday -> Monday
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # Friday before the swapped Saturday
        (date(2026, 12, 28), 5, date(2027, 1, 4)),   # crosses into unknown 2027
        (date(2026, 10, 8), -1, date(2026, 9, 30)),  # counting back skips the holiday
    ],
)
def test_add_workdays(start, n, due):
    assert CAL.add_workdays(start, n) == due
    assert CAL.workdays_between(start, due) == n


def test_override_holiday_is_skipped():
    cal = wf.WorkingCalendar({date(2026, 10, 8): False})
    assert cal.is_workday(date(2026, 10, 8)) is False
    assert cal.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 9)


def test_override_workday_counts():
    cal = wf.WorkingCalendar({date(2026, 10, 11): True, date(2026, 10, 1): True})
    assert cal.add_workdays(date(2026, 10, 10), 1) == date(2026, 10, 11)
    # Overrides beat chinesecalendar even on an official holiday.
    assert cal.is_workday(date(2026, 10, 1)) is True
    assert cal.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 1)


def test_new_year_2027_needs_override():
    # 2027-01-01 is a Friday chinesecalendar 1.11.0 does not know: a working day unless overridden.
    assert CAL.add_workdays(date(2026, 12, 28), 4) == date(2027, 1, 1)
    cal = wf.WorkingCalendar({date(2027, 1, 1): False})
    assert cal.add_workdays(date(2026, 12, 28), 5) == date(2027, 1, 5)
    assert cal.workdays_between(date(2026, 12, 28), date(2027, 1, 5)) == 5


def test_datetime_inputs_are_treated_as_dates():
    cal = wf.WorkingCalendar({datetime(2026, 10, 8, 9, 30): False})
    assert cal.add_workdays(datetime(2026, 9, 30, 17, 0), 1) == date(2026, 10, 9)


def test_workdays_between():
    assert CAL.workdays_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert CAL.workdays_between(date(2026, 10, 12), date(2026, 9, 30)) == -4
    assert CAL.workdays_between(date(2026, 10, 1), date(2026, 10, 1)) == 0
    # Over the holiday nothing counts: due 10-08 seen from 10-01 is one working day away.
    assert CAL.workdays_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert CAL.workdays_between(date(2026, 10, 1), date(2026, 10, 8)) == 1
    # A day past a Friday deadline (Saturday) is overdue by date, though 0 working days apart.
    assert CAL.workdays_between(date(2026, 11, 14), date(2026, 11, 13)) == 0


def test_unknown_years_and_warning():
    assert CAL.unknown_years(date(2026, 12, 28), date(2027, 1, 4)) == {2027}
    assert CAL.unknown_years(date(2026, 1, 1), date(2026, 12, 31)) == set()
    assert CAL.unknown_years(date(2028, 3, 1), date(2026, 3, 1)) == {2027, 2028}
    assert CAL.unknown_years(date(2003, 6, 1), date(2004, 6, 1)) == {2003}
    assert wf.known_years() == range(2004, 2027)
    assert wf.missing_schedule_warning(set()) is None
    warning = wf.missing_schedule_warning({2028, 2027})
    assert warning.startswith("2027年、2028年的法定节假日安排尚未录入")
    assert wf.WorkingCalendar.missing_schedule_warning([2027]).startswith("2027年的")


def test_official_lookups_are_cached():
    wf._official_workday.cache_clear()
    for _ in range(3):
        CAL.workdays_between(date(2026, 9, 30), date(2026, 10, 12))
    info = wf._official_workday.cache_info()
    assert info.misses == 12
    assert info.hits == 24
