"""Money in yuan: parse what staff type (parse_amount, raises AmountError), format it (format_money) and
write it in capital numerals for notices (amount_in_words)."""
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: The largest amount NUMERIC(14, 2) holds.
MONEY_MAX = Decimal("999999999999.99")
CENT = Decimal("0.01")

#: Digits with optional thousands separators in groups of three, then at most two decimals.
_AMOUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")


class AmountError(ValueError):
    """An amount that cannot be accepted; the message is Chinese and says why."""


def parse_amount(text, maximum=None):
    """Yuan as a Decimal with two places from '1000', '1,000.50', '１０００', '¥1000元';
    raises AmountError for empty, letters, exponents, more than two decimals, ≤ 0 or above `maximum`."""
    value = unicodedata.normalize("NFKC", str(text or "")).strip().replace(" ", "")
    # NFKC turns full-width digits, comma and point into ASCII and ￥ into ¥.
    value = value.removeprefix("¥").removesuffix("元")
    if not value:
        raise AmountError("请填写金额。")
    if value.startswith("-"):
        raise AmountError("金额必须大于0。")
    if not _AMOUNT.fullmatch(value):
        if re.fullmatch(r"[\d,]*\.\d{3,}", value):
            raise AmountError("金额最多保留两位小数（元、角、分）。")
        raise AmountError("金额格式不正确，请只填写数字，如 1000 或 1,000.50（单位：元）。")
    try:
        amount = Decimal(value.replace(",", "")).quantize(CENT)
    except InvalidOperation:
        raise AmountError("金额格式不正确，请只填写数字。") from None
    if amount <= 0:
        raise AmountError("金额必须大于0。")
    if amount > MONEY_MAX:
        raise AmountError("金额过大，请核对。")
    if maximum is not None and amount > maximum:
        raise AmountError(f"金额不能超过最高额度{format_money(maximum)}。")
    return amount


def format_money(value):
    """¥1,234,567.00 for a Decimal (or int); an empty string for None."""
    if value is None:
        return ""
    amount = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"¥{amount:,.2f}"


#: Capital digits and the places within a group of four, as written on cheques and notices (大写金额).
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
#: Group names: ones, 万 (10^4), 亿 (10^8), 万亿 (10^12).
_SECTIONS = ("", "万", "亿", "万亿")


def _section_words(n):
    """A group of four digits (0 < n < 10000) in capitals; zeros between digits collapse into one 零."""
    words, zero = "", False
    for place in (3, 2, 1, 0):
        digit = n // 10 ** place % 10
        if digit == 0:
            zero = bool(words)
            continue
        words += ("零" if zero else "") + _DIGITS[digit] + _PLACES[place]
        zero = False
    return words


def amount_in_words(amount):
    """The amount in capital Chinese numerals as written on notices: 1000 → "壹仟元整", 1000.05 → "壹仟元零伍分"."""
    amount = Decimal(amount).quantize(CENT)
    whole, cents = int(amount), int((amount - int(amount)) * 100)
    sections = []
    while whole:
        sections.append(whole % 10000)
        whole //= 10000
    words, zero = "", False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            zero = bool(words)
            continue
        if words and (zero or section < 1000):
            words += "零"
        words += _section_words(section) + _SECTIONS[index]
        zero = False
    jiao, fen = divmod(cents, 10)
    if words:
        words += "元"
    if not jiao and not fen:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    return words + (_DIGITS[fen] + "分" if fen else "整")
