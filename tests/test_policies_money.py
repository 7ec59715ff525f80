"""Amounts in yuan as staff type them (parse_amount), and as pages show them (format_money); demo policies."""
from datetime import timedelta
from decimal import Decimal

import pytest

from gaoxin.services.money import AmountError, format_money, parse_amount


@pytest.mark.parametrize("typed, amount", [
    ("1000", Decimal("1000.00")),
    ("1,000.50", Decimal("1000.50")),
    ("１０００", Decimal("1000.00")),
    ("１，０００．５", Decimal("1000.50")),
    (" ¥ 2,500 ", Decimal("2500.00")),
    ("￥300元", Decimal("300.00")),
    ("0.01", Decimal("0.01")),
    ("999999999999.99", Decimal("999999999999.99")),
])
def test_amounts_staff_type_are_read_as_exact_yuan(typed, amount):
    parsed = parse_amount(typed)
    assert parsed == amount and isinstance(parsed, Decimal) and parsed.as_tuple().exponent == -2


@pytest.mark.parametrize("typed, message", [
    ("", "请填写金额"),
    ("   ", "请填写金额"),
    ("0", "金额必须大于0"),
    ("0.00", "金额必须大于0"),
    ("-5", "金额必须大于0"),
    ("1e3", "金额格式不正确"),
    ("12abc", "金额格式不正确"),
    ("五千", "金额格式不正确"),
    ("1,00", "金额格式不正确"),
    ("1.2.3", "金额格式不正确"),
    ("NaN", "金额格式不正确"),
    ("Infinity", "金额格式不正确"),
    ("10.555", "金额最多保留两位小数"),
    ("1000000000000", "金额过大"),
])
def test_bad_amounts_are_refused_with_a_chinese_reason(typed, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(typed)


def test_an_amount_above_the_maximum_is_refused_and_names_it():
    assert parse_amount("500000", maximum=Decimal("500000")) == Decimal("500000.00")
    with pytest.raises(AmountError, match="金额不能超过最高额度¥500,000.00"):
        parse_amount("500,000.01", maximum=Decimal("500000"))


@pytest.mark.parametrize("value, shown", [
    (Decimal("1234567"), "¥1,234,567.00"), (Decimal("0.5"), "¥0.50"), (0, "¥0.00"), (None, ""),
])
def test_money_is_shown_with_yuan_sign_separators_and_cents(value, shown):
    assert format_money(value) == shown


def test_demo_policies_cover_the_levels_and_an_open_a_closed_and_a_coming_period(db):
    from gaoxin.models import Policy
    from gaoxin.services import demo
    from gaoxin.services.calendar import today
    from gaoxin.services.policies import PeriodStatus, period_status

    demo.create_units()
    created = demo.create_demo_policies()
    db.session.commit()
    assert len(created) == 8 and demo.create_demo_policies() == []
    policies = db.session.scalars(db.select(Policy)).all()
    on = today()
    assert {p.level for p in policies} == {"district", "city", "province"}
    assert all(f"-{on.year}-" in p.code for p in policies)
    assert all(3 <= len(p.items) <= 6 and 15 <= p.review_days <= 30 for p in policies)
    statuses = [period_status(p, on) for p in policies]
    assert statuses.count(PeriodStatus.closed) == 1 and statuses.count(PeriodStatus.not_yet) == 1
    closed = next(p for p, s in zip(policies, statuses) if s is PeriodStatus.closed)
    assert closed.closes_on == on - timedelta(days=1)
    subsidy = next(p for p in policies if p.title == "成都高新区支持企业研发投入补贴")
    assert subsidy.department.name == "科技人才局" and subsidy.max_amount == Decimal("500000.00")
