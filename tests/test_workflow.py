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
    (S.dispatched, A.co_opinion): S.dispatched,
    (S.in_progress, A.co_opinion): S.in_progress,
    (S.in_progress, A.reply): S.replied,
    (S.replied, A.follow_up_satisfied): S.closed,
    (S.replied, A.follow_up_unsatisfied): S.in_progress,
    **{(s, A.note): s for s in OPEN},
    **{(s, A.withdraw): S.withdrawn for s in OPEN},
    **{(s, A.merge): S.withdrawn for s in (S.awaiting_dispatch, S.dispatched, S.in_progress)},
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
        "同意延期", "不同意延期", "督办", "协办意见", "答复", "回访满意", "回访不满意", "撤回", "并案",
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
    assert len(refused) == 7 * 17 - len(EXPECTED_APPEAL)
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
        (date(2027, 1, 1), False),   # unknown year: 元旦 by rule, though a Friday
        (date(2027, 1, 4), True),    # unknown year: an ordinary Monday
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
        (date(2026, 12, 28), 5, date(2027, 1, 5)),   # crosses into unknown 2027: 元旦 by rule skipped
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


def test_new_year_2027_is_a_holiday_by_rule_and_an_override_still_wins():
    # 2027-01-01 is a Friday chinesecalendar 1.11.0 does not know: 元旦 by rule, skipped without any override.
    assert CAL.add_workdays(date(2026, 12, 28), 4) == date(2027, 1, 4)
    assert CAL.workdays_between(date(2026, 12, 28), date(2027, 1, 5)) == 5
    cal = wf.WorkingCalendar({date(2027, 1, 1): True})
    assert cal.add_workdays(date(2026, 12, 28), 4) == date(2027, 1, 1)


# ----------------------------------------------------------------------------- holidays by rule (2027 on)


def test_2026_12_25_plus_5_working_days_skips_new_years_day_2027():
    # Fri 25 Dec 2026 (chinesecalendar) + 28, 29, 30, 31 Dec, then 1 Jan 2027 (元旦 by rule), then Mon 4 Jan.
    assert CAL.add_workdays(date(2026, 12, 25), 5) == date(2027, 1, 4)


def test_2027_02_05_plus_10_working_days_skips_the_spring_festival_by_the_lunar_rule():
    # Lunar New Year 2027 is Sat 6 Feb: 除夕 Fri 5 Feb to 初三 Mon 8 Feb are off, and Sat 6 and Sun 7 owe
    # make-up days (补假) on Tue 9 and Wed 10 Feb. Working days 11, 12, 15–19, 22, 23, 24 Feb: the 10th is 24 Feb.
    assert [d for d, name in wf.rule_holidays(2027).items() if name.startswith("春节")] == [
        date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)]
    assert CAL.add_workdays(date(2027, 2, 5), 10) == date(2027, 2, 24)


@pytest.mark.parametrize(("day", "name"), [
    (date(2027, 1, 1), "元旦"),
    (date(2027, 4, 5), "清明节"),       # the 清明 solar term, Monday 5 April 2027
    (date(2027, 5, 1), "劳动节"), (date(2027, 5, 2), "劳动节"),
    (date(2027, 5, 3), "劳动节补假"), (date(2027, 5, 4), "劳动节补假"),  # 1 and 2 May 2027 are Sat and Sun
    (date(2027, 6, 9), "端午节"),       # lunar 5/5
    (date(2027, 9, 15), "中秋节"),      # lunar 8/15
    (date(2027, 10, 1), "国庆节"), (date(2027, 10, 3), "国庆节"), (date(2027, 10, 4), "国庆节补假"),
    (date(2028, 1, 25), "春节"),        # lunar New Year's Eve 2028 (New Year's Day is 26 Jan)
    # 中秋 2028 falls on Tue 3 Oct, a 国庆 day: the day lost is made up, with Sun 1 Oct's, on 4 and 5 Oct.
    (date(2028, 10, 3), "中秋节"), (date(2028, 10, 5), "国庆节补假"),
])
def test_each_statutory_holiday_is_known_by_rule(day, name):
    assert wf.rule_holidays(day.year)[day] == name
    assert CAL.is_workday(day) is False


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_rule_agrees_with_chinesecalendar_where_the_package_knows_the_year(year):
    # Every day the rule gives off in 2025 and 2026 is a holiday in the official data (which adds the 调休).
    import chinese_calendar

    days = wf.rule_holidays(year)
    assert len([d for d, n in days.items() if not n.endswith("补假")]) == 13
    assert [d for d in days if chinese_calendar.is_workday(d)] == []


def test_the_2026_cases_still_come_from_chinesecalendar_not_the_rule():
    # 2026-10-10 (Sat) is a swapped working day in the official data: the rule would not know it.
    assert CAL.is_workday(date(2026, 10, 10)) is True
    assert CAL.is_provisional(date(2026, 10, 10)) is False
    assert CAL.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_a_confirmed_2027_follows_its_notice_with_a_swapped_saturday():
    # The notice: 春节 5–13 Feb off, Sun 14 Feb and Sat 20 Feb working days.
    notice = {date(2027, 2, 5) + __import__("datetime").timedelta(days=k): False for k in range(9)}
    notice.update({date(2027, 2, 14): True, date(2027, 2, 20): True})
    cal = wf.WorkingCalendar(notices={2027: notice})
    assert cal.is_workday(date(2027, 2, 20)) is True   # Saturday, swapped
    assert cal.is_workday(date(2027, 2, 11)) is False  # off by the notice, a working day by rule
    assert cal.is_workday(date(2027, 1, 1)) is True    # the notice is the whole year: it does not list 1 Jan here
    # From Fri 5 Feb: 14 (Sun), 15–19, 20 (Sat), 22, 23, 24 → the 10th working day is 24 Feb.
    assert cal.add_workdays(date(2027, 2, 5), 10) == date(2027, 2, 24)
    assert cal.add_workdays(date(2027, 2, 5), 7) == date(2027, 2, 20)
    assert cal.is_provisional(date(2027, 2, 20)) is False and cal.is_confirmed(2027)
    assert CAL.is_provisional(date(2027, 2, 20)) is True and "2027年国务院放假通知尚未录入" in CAL.provisional_note(
        date(2027, 2, 20))


def test_an_override_does_not_confirm_a_year():
    cal = wf.WorkingCalendar({date(2027, 1, 1): False})
    assert cal.is_provisional(date(2027, 3, 1)) is True
    assert cal.provisional_years(date(2026, 12, 1), date(2027, 3, 1)) == {2027}
    # The Spring Festival still counts as holidays after a single 2027 override.
    assert cal.is_workday(date(2027, 2, 8)) is False


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
    assert "预计" in warning
    assert wf.WorkingCalendar.missing_schedule_warning([2027]).startswith("2027年的")


def test_official_lookups_are_cached():
    wf._official_workday.cache_clear()
    for _ in range(3):
        CAL.workdays_between(date(2026, 9, 30), date(2026, 10, 12))
    info = wf._official_workday.cache_info()
    assert info.misses == 12
    assert info.hits == 24
