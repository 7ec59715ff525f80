"""The public progress lookup form: receipt number and the last 6 characters of the credit code."""
import unicodedata

from wtforms import StringField
from wtforms.validators import DataRequired, Regexp

from .base import Form


def _plain_upper(value):
    # Visitors type on phones and Chinese IMEs: full-width letters and digits, spaces, lower case.
    if value is None:
        return value
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


class LookupForm(Form):
    receipt_no = StringField(
        "回执号",
        filters=[_plain_upper],
        validators=[
            DataRequired("请输入回执号。"),
            Regexp(r"^[A-Z]{2}[0-9]{6,18}$", message="回执号为两位字母加数字，如 SQ202611250000001。"),
        ],
    )
    code_tail = StringField(
        "统一社会信用代码后6位",
        filters=[_plain_upper],
        validators=[
            DataRequired("请输入统一社会信用代码后6位。"),
            Regexp(r"^[0-9A-Z]{6}$", message="请输入统一社会信用代码的最后6位（数字或字母）。"),
        ],
    )
