"""Text rules of the enterprise registry: credit codes, search keys, pinyin initials and mobiles."""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum.cn import uscc
from stdnum.exceptions import InvalidLength, ValidationError

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "CreditCodeError",
    "classify_query",
    "mask_mobile",
    "normalize_credit_code",
    "pinyin_initials",
    "search_key",
    "to_half_width",
    "validate_mobile",
]

#: The 31 characters GB 32100-2015 allows (digits and capitals without I, O, Z, S, V).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ALPHABET_SET = frozenset(CREDIT_CODE_ALPHABET)

#: Registration authority (position 1) → (label, allowed organisation types at position 2),
#: from the GB 32100-2015 code table of 登记管理部门代码 and 机构类别代码 as currently published.
_AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "1239"),
    "2": ("外交", "19"),
    "3": ("司法行政", "123459"),
    "4": ("文化", "19"),
    "5": ("民政", "1239"),
    "6": ("旅游", "129"),
    "7": ("宗教", "129"),
    "8": ("工会", "19"),
    "9": ("工商", "123"),
    "A": ("中央军委改革和编制办公室", "19"),
    "N": ("农业", "1239"),
    "Y": ("其他", "1"),
}

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map onto plain ASCII.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALF_WIDTH[0x3000] = 0x20

_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2212]+")
_WHITESPACE = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_MOBILE = re.compile(r"1[0-9]{10}")
_MOBILE_PREFIX = re.compile(r"^(?:\+86|0086|86(?=1[0-9]{10}$))")


class CreditCodeError(ValueError):
    """A unified social credit code that breaks a GB 32100-2015 rule; the message is for users."""

    def __init__(self, message: str, rule: str):
        """Keep the Chinese message and the rule that failed: length, character, component or checksum."""
        super().__init__(message)
        self.rule = rule


def to_half_width(text: str) -> str:
    """Turn full-width letters, digits, punctuation and the ideographic space into ASCII."""
    return text.translate(_HALF_WIDTH)


def _compact_code(raw: str) -> str:
    """Strip, half-width, drop spaces and hyphens, upper-case."""
    return _SEPARATORS.sub("", to_half_width(raw or "").strip()).upper()


def normalize_credit_code(raw: str) -> str:
    """Return the normalised 18-character credit code or raise CreditCodeError naming the failed rule."""
    code = _compact_code(raw)
    try:
        uscc.validate(code)
    except ValidationError as exc:
        _explain_rejection(code, exc)
    _check_components(code)
    return code


def _explain_rejection(code: str, exc: ValidationError) -> None:
    """Raise the Chinese error behind a stdnum rejection, or return if the code is valid after all."""
    if isinstance(exc, InvalidLength):
        raise CreditCodeError(f"统一社会信用代码应为18位，当前为{len(code)}位。", "length")
    bad = next((char for char in code if char not in _ALPHABET_SET), None)
    if bad is not None:
        if bad in "IOZSV":
            hint = "不得使用 I、O、Z、S、V"
        else:
            hint = "只能使用数字和大写字母，且不得使用 I、O、Z、S、V"
        raise CreditCodeError(f"统一社会信用代码含有不允许的字符“{bad}”（{hint}）。", "character")
    _check_components(code)
    _check_checksum(code)
    # Length, characters, positions 1-8 and the check character are all right, so stdnum refused
    # the code only because it demands digits in positions 1-2. GB 32100-2015 assigns letters
    # there too (A 中央军委改革和编制办公室, N 农业 e.g. N2… 村级集体经济组织, Y 其他), and such codes
    # are real, so the standard wins over stdnum here.


def _check_components(code: str) -> None:
    """Check positions 1-8: registration authority, organisation type and region code."""
    authority, org_type, region = code[0], code[1], code[2:8]
    if authority not in _AUTHORITIES:
        raise CreditCodeError(
            f"统一社会信用代码第1位（登记管理部门代码）“{authority}”无效，应为1–9、A、N或Y。",
            "component",
        )
    label, allowed = _AUTHORITIES[authority]
    if org_type not in allowed:
        raise CreditCodeError(
            f"统一社会信用代码第2位（机构类别代码）“{org_type}”无效：登记管理部门为“{authority}”"
            f"（{label}）时，应为{'、'.join(allowed)}之一。",
            "component",
        )
    if not region.isdigit():
        raise CreditCodeError(
            f"统一社会信用代码第3–8位（登记管理机关行政区划码）应为6位数字，当前为“{region}”。",
            "component",
        )


def _check_checksum(code: str) -> None:
    """Compare the 18th character with the ISO 7064 MOD 31-3 check character."""
    expected = uscc.calc_check_digit(code[:17])
    if code[17] != expected:
        raise CreditCodeError(f"统一社会信用代码校验位错误：第18位应为“{expected}”。", "checksum")


_converter = None


def _t2s():
    """The OpenCC Traditional→Simplified converter, built on first use (loading takes a moment)."""
    global _converter
    if _converter is None:
        from opencc import OpenCC

        _converter = OpenCC("t2s")
    return _converter


def search_key(name: str) -> str:
    """Normalise a name for substring search: Simplified, half-width, lower-case, no whitespace."""
    text = _WHITESPACE.sub("", to_half_width(name or ""))
    if not text:
        return ""
    if not text.isascii():
        text = _t2s().convert(text)
    return text.lower()


def pinyin_initials(name: str) -> str:
    """Lower-case pinyin initials of a Simplified name, keeping ASCII letters and digits: 迈普通信 → mptx."""
    text = to_half_width(name or "")
    # Segment once (the phrase segmentation keeps polyphones right, e.g. 银行 → yh) and convert each
    # segment through a cache: company names repeat 成都, 科技, 有限公司…, which makes bulk use fast.
    # pypinyin is imported here, on the first name written: its dictionaries are ~57 MB per process, and
    # only writes (a new or renamed enterprise, an import) need initials — a search for initials is ASCII.
    from pypinyin.seg.simpleseg import seg

    initials = "".join(_segment_initials(part) for part in seg(text))
    return _NOT_ALNUM.sub("", initials.lower())


@lru_cache(maxsize=65536)
def _segment_initials(segment: str) -> str:
    """Initials of one pinyin segment."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(segment, style=Style.FIRST_LETTER))


def classify_query(q: str) -> tuple[str, str]:
    """Say what a search box holds: ("code"|"initials"|"name"|"empty", normalised query)."""
    text = _WHITESPACE.sub("", to_half_width(q or ""))
    if not text:
        return ("empty", "")
    code = _compact_code(text)
    if (
        4 <= len(code) <= 18
        and all(char in _ALPHABET_SET for char in code)
        and any(char.isdigit() for char in code)
    ):
        return ("code", code)
    if text.isascii() and text.isalpha():
        return ("initials", text.lower())
    return ("name", search_key(text))


def validate_mobile(raw) -> str:
    """Return the 11 digits of a mainland mobile number (spaces, hyphens, +86 allowed) or raise ValueError."""
    text = _SEPARATORS.sub("", to_half_width(str(raw or "")))
    text = _MOBILE_PREFIX.sub("", text)
    if not _MOBILE.fullmatch(text):
        raise ValueError("手机号码应为11位数字，以1开头。")
    return text


def mask_mobile(mobile: str) -> str:
    """Mask a mobile number for display: 13812345678 → 138****5678; short values keep only the last 2."""
    try:
        text = validate_mobile(mobile)
    except ValueError:
        text = _WHITESPACE.sub("", str(mobile or ""))
    if len(text) >= 11:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    if len(text) <= 2:
        return "*" * len(text)
    return "*" * (len(text) - 2) + text[-2:]
