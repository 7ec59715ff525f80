"""Amounts in capital numerals (大写金额) as notices write them, by the rules for Chinese cheques.

The rules (《支付结算办法》附一《正确填写票据和结算凭证的基本规定》): every digit in capitals, 拾 always with
its digit (壹拾); a run of zeros inside the number is one 零; a zero 角 before a 分 is written 零; 元 is
followed by 整 when there are no 角 or 分; an amount below one yuan starts at its first digit. Where the
rules allow either, these expectations follow the house choice: no 零 after 元 before a 角 (壹佰元壹角),
and 整 after a final 角 (伍角整).
"""
from decimal import Decimal

import pytest

from gaoxin.services.money import amount_in_words


@pytest.mark.parametrize("amount, words", [
    ("0", "零元整"),
    ("0.05", "伍分"),
    ("0.15", "壹角伍分"),
    ("0.5", "伍角整"),
    ("1", "壹元整"),
    ("1.01", "壹元零壹分"),
    ("10", "壹拾元整"),
    ("16", "壹拾陆元整"),
    ("100.10", "壹佰元壹角整"),
    ("1000", "壹仟元整"),
    ("1000.05", "壹仟元零伍分"),
    ("1001", "壹仟零壹元整"),
    ("1010", "壹仟零壹拾元整"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("10001", "壹万零壹元整"),
    ("105000", "壹拾万伍仟元整"),
    ("100000", "壹拾万元整"),
    ("100100", "壹拾万零壹佰元整"),
    ("1010000", "壹佰零壹万元整"),
    ("1000000.01", "壹佰万元零壹分"),
    ("10000010", "壹仟万零壹拾元整"),
    ("100000000", "壹亿元整"),
    ("100001000", "壹亿零壹仟元整"),
    ("100010000", "壹亿零壹万元整"),
    ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
])
def test_amounts_are_written_in_capitals_as_on_a_cheque(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_an_integer_amount_is_written_like_the_same_decimal():
    assert amount_in_words(500000) == amount_in_words(Decimal("500000.00")) == "伍拾万元整"
