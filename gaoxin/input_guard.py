"""Refuses control characters where no form can answer beside a field: query strings, header values and
posted values of no form's typed field (hidden fields, values only a view reads) get a Chinese 400 page.
Also keeps integers from the URL and from `args.get(..., type=int)` within the id columns' range."""
import re

from flask import g, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from .errors import render_error
from .forms.base import CONTROL, CONTROL_MULTILINE, INT_MAX, INT_MIN, POSTED_CONTROL_KEYS, TYPED_FIELD_NAMES

MESSAGE = "请求中含有控制字符（如空字符），无法处理。请返回上一页，检查输入的内容后重试。"
#: A header value is visible ASCII, spaces, tabs and obs-text (RFC 9110 §5.5): never another C0 or DEL.
HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def init_app(app):
    """Call before the blueprints are registered: their rules take the `int` converter set here."""
    app.url_map.converters["int"] = ColumnIntConverter
    app.request_class = type("Request", (app.request_class,), {"parameter_storage_class": ColumnIntValues})
    app.before_request(refuse_control_characters)


class ColumnIntConverter(IntegerConverter):
    """`<int:id>` up to 2**31 - 1: a bigger number is no row (404), not an error of PostgreSQL's (500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def column_int(value):
    """int(value) within the integer columns' range; ValueError otherwise."""
    number = int(value)
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError(f"{value!r} is out of the integer columns' range")
    return number


class ColumnIntValues(ImmutableMultiDict):
    """request.args and request.form: `get(key, type=int)` gives the default for a number out of range,
    as it does for one that is not a number."""

    def get(self, key, default=None, type=None):
        return super().get(key, default, column_int if type is int else type)


def refuse_control_characters():
    """Answer 400 before the view runs if the request carries a control character a form will not report."""
    if _bad_query() or _bad_headers() or _bad_posted_values():
        return render_error(400, MESSAGE)
    return None


def _bad_query():
    # GET forms (search boxes, filters) are read from here too: a search never needs a control character.
    return any(CONTROL.search(key) or CONTROL.search(value) for key, value in request.args.items(multi=True))


def _bad_headers():
    return any(HEADER_CONTROL.search(value) for _, value in request.headers.items())


def _bad_posted_values():
    """True for a control character in a posted value that no form reports beside its field. In a value a form
    does report, it is taken out of request.form at once (so no view that reads request.form itself ever
    passes it to the database) and its key noted for the form (gaoxin.forms.base) to report."""
    cleaned, noted = [], set()
    for key, value in request.form.items(multi=True):
        if CONTROL.search(key):
            return True
        if CONTROL_MULTILINE.search(value):
            if not _typed_field(key):
                return True
            noted.add(key)
            value = CONTROL_MULTILINE.sub("", value)
        cleaned.append((key, value))
    if noted:
        g.setdefault(POSTED_CONTROL_KEYS, set()).update(noted)
        current = request._get_current_object()
        current.__dict__["form"] = type(request.form)(cleaned)
        current.__dict__.pop("values", None)
    return False


def _typed_field(key):
    # A form with a prefix posts "<prefix>-<field name>".
    return key in TYPED_FIELD_NAMES or key.rsplit("-", 1)[-1] in TYPED_FIELD_NAMES
