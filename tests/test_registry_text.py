"""Tests for registry text rules (credit codes, search keys, initials, mobiles) and demo enterprises."""

import random

import pytest
from stdnum.cn import uscc

from gaoxin.demo_data import (
    INDUSTRY_SECTIONS,
    SIZE_LABELS,
    _org_code_check_char,
    enterprise_rows,
    make_credit_code,
)
from gaoxin.registry_text import (
    CreditCodeError,
    classify_query,
    mask_mobile,
    normalize_credit_code,
    pinyin_initials,
    search_key,
    validate_mobile,
)

VALID_CODES = [
    "91110000600037341L",  # stdnum's own example
    "91330201MA282UF146",
    "12440600MB2C07549J",  # 机构编制 / 事业单位
    "91510100MA61R8XK10",  # constructed: Chengdu enterprise
    "92510109MA6C2N7P1M",  # constructed: 个体工商户 in 高新区
    "31510000MD0123454Q",  # constructed: 司法行政 / 律师执业机构
]

# GB 32100-2015 puts letters in position 1 (A, N, Y); stdnum 2.2 demands digits there.
LETTER_AUTHORITY_CODES = [
    "N2510122MF1234X576",  # 农业 / 村级集体经济组织
    "Y1510100MC1A2B3C3M",  # 其他
    "A1100000MB0000000E",  # 中央军委改革和编制办公室 / 军队事业单位
]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_codes_are_accepted_unchanged(code):
    assert normalize_credit_code(code) == code


@pytest.mark.parametrize("code", LETTER_AUTHORITY_CODES)
def test_letter_authority_codes_are_accepted_although_stdnum_refuses_them(code):
    assert not uscc.is_valid(code)
    assert normalize_credit_code(code) == code


@pytest.mark.parametrize(
    "raw",
    [
        "91510100ma61r8xk10",
        "  9151 0100 MA61 R8XK 10 ",
        "91-510100-MA61R8XK1-0",
        "９１５１０１００ＭＡ６１Ｒ８ＸＫ１０",
        "91510100MA61R8XK10\u3000",
    ],
)
def test_lower_case_spaced_and_full_width_input_is_normalised(raw):
    assert normalize_credit_code(raw) == "91510100MA61R8XK10"


@pytest.mark.parametrize("raw, length", [("9151010", 7), ("91510100MA61R8XK100", 19), ("", 0)])
def test_wrong_length_says_how_long_the_code_is(raw, length):
    with pytest.raises(CreditCodeError) as info:
        normalize_credit_code(raw)
    assert str(info.value) == f"统一社会信用代码应为18位，当前为{length}位。"
    assert info.value.rule == "length"


def test_forbidden_letter_is_named():
    with pytest.raises(CreditCodeError) as info:
        normalize_credit_code("91510100MA61R8IK10")
    assert str(info.value) == "统一社会信用代码含有不允许的字符“I”（不得使用 I、O、Z、S、V）。"
    assert info.value.rule == "character"


def test_other_forbidden_character_is_named():
    with pytest.raises(CreditCodeError, match="不允许的字符“#”"):
        normalize_credit_code("91510100MA61R8#K10")


def test_wrong_check_character_names_the_expected_one():
    with pytest.raises(CreditCodeError) as info:
        normalize_credit_code("91510100MA61R8XK1A")
    assert str(info.value) == "统一社会信用代码校验位错误：第18位应为“0”。"
    assert info.value.rule == "checksum"
    assert isinstance(info.value, ValueError)


def _with_check(first17):
    return first17 + uscc.calc_check_digit(first17)


@pytest.mark.parametrize(
    "code, position",
    [
        (_with_check("01510100MA61R8XK1"), "第1位"),  # no authority 0
        (_with_check("94510100MA61R8XK1"), "第2位"),  # 工商 has types 1, 2, 3 only
        (_with_check("Y2510100MA61R8XK1"), "第2位"),  # 其他 has type 1 only
        (_with_check("9151A100MA61R8XK1"), "第3–8位"),  # region code is digits
    ],
)
def test_component_errors_name_the_position(code, position):
    with pytest.raises(CreditCodeError) as info:
        normalize_credit_code(code)
    assert position in str(info.value)
    assert info.value.rule == "component"


def test_wrong_type_with_wrong_check_reports_the_type_first():
    with pytest.raises(CreditCodeError, match="第2位"):
        normalize_credit_code("94510100MA61R8XK10")


def test_search_key_converts_traditional_and_width():
    assert search_key("邁普通信") == "迈普通信"
    assert search_key(" 成都 ＡＢＣ 邁普 ") == "成都abc迈普"
    assert search_key("") == ""


def test_pinyin_initials():
    assert pinyin_initials("迈普通信技术股份有限公司") == "mptxjsgfyxgs"
    assert "mptx" in pinyin_initials("成都迈普通信技术有限公司")
    assert pinyin_initials("数联（成都）科技有限公司") == "slcdkjyxgs"
    assert pinyin_initials("成都ABC５G科技") == "cdabc5gkj"
    assert pinyin_initials("重庆银行") == "cqyh"


@pytest.mark.parametrize(
    "q, expected",
    [
        ("迈普", ("name", "迈普")),
        ("邁普", ("name", "迈普")),
        ("mptx", ("initials", "mptx")),
        ("MPTX", ("initials", "mptx")),
        (" mp tx ", ("initials", "mptx")),
        ("91510100", ("code", "91510100")),
        ("91510100ma61", ("code", "91510100MA61")),
        ("915", ("name", "915")),
        ("", ("empty", "")),
        ("   ", ("empty", "")),
    ],
)
def test_classify_query(q, expected):
    assert classify_query(q) == expected


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("028-85123456", "028*****3456"),
        ("12345", "***45"),
        ("7", "*"),
        ("", ""),
    ],
)
def test_mask_mobile(raw, masked):
    assert mask_mobile(raw) == masked


@pytest.mark.parametrize("raw", ["13812345678", "+86 138 1234 5678", "+8613812345678", "138-1234-5678"])
def test_validate_mobile_accepts_common_forms(raw):
    assert validate_mobile(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["1381234567", "23812345678", "138123456789", "abc", "", None])
def test_validate_mobile_refuses_bad_numbers(raw):
    with pytest.raises(ValueError, match="手机号码应为11位数字，以1开头。"):
        validate_mobile(raw)


def test_make_credit_code_is_valid_in_chengdu():
    rng = random.Random(1)
    for _ in range(500):
        code = make_credit_code(rng)
        assert normalize_credit_code(code) == code
        assert code.startswith("915101")
        assert code[16] == _org_code_check_char(code[8:16])


def test_enterprise_rows_start_with_the_article_enterprises():
    names = [row["name"] for row in enterprise_rows(4)]
    assert names == [
        "成都迈普通信技术股份有限公司",
        "成都数联铭品科技有限公司",
        "成都锐成芯微科技股份有限公司",
        "成都硅宝科技股份有限公司",
    ]


def test_enterprise_rows_are_deterministic_and_complete():
    first = list(enterprise_rows(2000))
    assert first == list(enterprise_rows(2000))
    assert first != list(enterprise_rows(2000, seed=7))
    assert len({row["name"] for row in first}) == 2000
    assert len({row["credit_code"] for row in first}) == 2000
    for row in first:
        assert normalize_credit_code(row["credit_code"]) == row["credit_code"]
        assert validate_mobile(row["contact_mobile"]) == row["contact_mobile"]
        assert row["industry"] in INDUSTRY_SECTIONS
        assert row["size"] in SIZE_LABELS
        assert 2 <= len(row["legal_rep"]) <= 3
        assert row["address"].startswith("成都高新区")
        assert row["name"].endswith("公司")


def test_pinyin_initials_find_the_demo_enterprise():
    row = next(enterprise_rows(1))
    assert "mptx" in pinyin_initials(row["name"])


def test_220000_rows_have_unique_names_and_codes():
    # Speed is measured in bench/ (a timed test fails on a busy machine); here only the property.
    names, codes = set(), set()
    for row in enterprise_rows(220_000):
        names.add(row["name"])
        codes.add(row["credit_code"])
    assert len(names) == 220_000
    assert len(codes) == 220_000
