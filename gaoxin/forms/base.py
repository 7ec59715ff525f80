"""The base of every form: control characters, bidi controls in names and numbers beyond the integer columns are
refused beside the field, before any view or validator sees them."""
import re

from flask import g, has_request_context
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, TextAreaField
from wtforms.fields.core import UnboundField

#: C0 and C1 control characters and DEL: never in a value (PostgreSQL cannot even store NUL).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: The same, less tab and line breaks, for multi-line text.
CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): a name stored as
#: "\u202e司公限有技科…" shows as "…科技有限公司" and no search finds it.
BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
#: The range of the integer columns (ids, versions, days): PostgreSQL refuses to compare them with 2**31.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

CONTROL_MESSAGE = "不能包含控制字符（如空字符、换行符），已去掉，请核对后重新提交。"
CONTROL_MULTILINE_MESSAGE = "不能包含控制字符（如空字符），已去掉，请核对后重新提交。"
PASSWORD_CONTROL_MESSAGE = "不能包含控制字符（如空字符），请重新输入。"
BIDI_MESSAGE = "名称中不能包含文字方向控制字符，已去掉，请核对文字顺序后重新提交。"
NUMBER_MESSAGE = "数值超出范围，请重新填写或选择。"

#: Names of the fields a person types into, in every form posted with a CSRF token. The request hook
#: (gaoxin.input_guard) leaves these to the form, which answers beside the field; any other posted value
#: (hidden fields, values a view reads from request.form itself) it refuses with a 400 page.
TYPED_FIELD_NAMES = set()
#: flask.g key: the posted keys whose control characters the request hook took out before the view ran.
POSTED_CONTROL_KEYS = "gaoxin_posted_control_keys"


def is_name_field(name):
    """Enterprise, contact, user, unit, category and material names: where a bidi control is refused."""
    return name in ("name", "username") or name.endswith("_name")


def _is_multiline(field):
    return isinstance(field, TextAreaField)


def _pattern(field):
    return CONTROL_MULTILINE if _is_multiline(field) else CONTROL


class Form(FlaskForm):
    """A Flask-WTF form that refuses control characters in every field (tab and line breaks allowed in a
    textarea), bidi controls in name fields and integers beyond ±2**31, each with a Chinese message beside
    the field.

    The check runs when the form reads the request, before any view or validator sees the value: the
    offending characters are taken out of the field's data (a view that looks a value up before it
    validates, such as the intake's submission token, never sends a NUL to the database) and the field
    carries the error, so validate() fails and the page shows the text without them.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        meta = cls.__dict__.get("Meta")
        if meta is not None and getattr(meta, "csrf", True) is False:
            return  # a GET form: its values come in the query string, which the request hook checks
        for name in dir(cls):
            value = getattr(cls, name, None)
            if isinstance(value, UnboundField) and not issubclass(value.field_class, HiddenField):
                TYPED_FIELD_NAMES.add(name)

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        super().process(formdata, obj, data, extra_filters, **kwargs)
        for field in self:
            if field.raw_data is not None:  # only what the request sent
                _refuse_bad_characters(field)
                _refuse_huge_numbers(field)


def _without_bad_characters(value, pattern, name_field):
    """(value without refused characters, the kinds found: "control", "bidi"); a non-text value as it is."""
    found = set()
    if not isinstance(value, str):
        return value, found
    if pattern.search(value):
        found.add("control")
        value = pattern.sub("", value)
    if name_field and BIDI.search(value):
        found.add("bidi")
        value = BIDI.sub("", value)
    return value, found


def _refuse_bad_characters(field):
    """Take control (and, in names, bidi) characters out of the field's value and say so beside it."""
    pattern = _pattern(field)
    name_field = is_name_field(field.short_name)
    found = set()
    if has_request_context() and field.name in g.get(POSTED_CONTROL_KEYS, ()):
        found.add("control")  # the request hook already took them out of request.form
    if isinstance(field.data, str):
        field.data, kinds = _without_bad_characters(field.data, pattern, name_field)
        found |= kinds
    elif isinstance(field.data, (list, tuple)) and any(isinstance(v, str) for v in field.data):
        cleaned = [_without_bad_characters(v, pattern, name_field) for v in field.data]
        field.data = type(field.data)(value for value, _ in cleaned)
        found = found.union(*(kinds for _, kinds in cleaned))
    elif any(isinstance(v, str) and pattern.search(v.strip()) for v in field.raw_data):
        # A number, date or choice: its text was already read (or refused); look at what was sent.
        found.add("control")
    # What was sent, for the widgets that show it again; the data (after filters such as strip) was judged.
    field.raw_data = [_without_bad_characters(v, pattern, name_field)[0] for v in field.raw_data]

    label = "" if isinstance(field, HiddenField) else field.label.text
    if "control" in found:
        if isinstance(field, PasswordField):
            message = PASSWORD_CONTROL_MESSAGE
        elif _is_multiline(field):
            message = CONTROL_MULTILINE_MESSAGE
        else:
            message = CONTROL_MESSAGE
        field.process_errors.insert(0, f"{label}{message}")
    if "bidi" in found:
        field.process_errors.insert(0, BIDI_MESSAGE)


def _out_of_range(value):
    return isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX


def _refuse_huge_numbers(field):
    """An id or count beyond the integer columns: taken out (a view may look it up before validating)."""
    if _out_of_range(field.data):
        field.data = None
    elif isinstance(field.data, (list, tuple)) and any(_out_of_range(v) for v in field.data):
        field.data = type(field.data)(v for v in field.data if not _out_of_range(v))
    else:
        return
    field.process_errors.append(NUMBER_MESSAGE)
