"""Fields and filters every form shares: Chinese messages for unreadable values, '' as None, the version field."""
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..registry_text import validate_mobile
from .base import Form


def int_or_none(value):
    """A select's or hidden field's value as int; '', None and garbage as None."""
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


def strip_or_none(value):
    """Trim text; empty text becomes None."""
    value = value.strip() if isinstance(value, str) else value
    return value or None


class MainlandMobile:
    """Validator: an empty field passes; otherwise a mainland mobile number, normalised in place (+86, spaces
    and hyphens dropped), or the registry's Chinese message."""

    def __call__(self, form, field):
        try:
            field.data = validate_mobile(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


def select_choices(pairs):
    """(value, label) pairs as SelectChoice objects (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


class ChineseInvalid:
    """Replace WTForms' English 'Not a valid …' messages with `invalid_message`."""

    invalid_message = "所选项无效，请重新选择。"

    def __init__(self, *args, invalid_message=None, **kwargs):
        super().__init__(*args, **kwargs)
        if invalid_message:
            self.invalid_message = invalid_message

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(self.invalid_message) from exc

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError as exc:
            raise ValidationError(self.invalid_message) from exc


class ChoiceField(ChineseInvalid, SelectField):
    """A select whose invalid value gets a Chinese message."""


class CheckboxesField(ChineseInvalid, SelectMultipleField):
    """A group of checkboxes (one per choice) whose invalid value gets a Chinese message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ChineseDateField(ChineseInvalid, DateField):
    """A date input (YYYY-MM-DD) whose unreadable value gets a Chinese message."""

    invalid_message = "日期格式应为“年-月-日”，如 2026-03-01。"


class ChineseIntegerField(ChineseInvalid, IntegerField):
    """An integer input whose unreadable value gets a Chinese message."""

    invalid_message = "请输入整数。"


class VersionedForm(Form):
    """An action that carries the version the user saw, so a stale page cannot overwrite newer work;
    a post without a readable version is refused (it could otherwise overwrite anything)."""

    version = HiddenField(filters=[int_or_none])

    def validate_version(self, field):
        if field.data is None:
            raise ValidationError("页面已过期或不完整，请刷新页面后重试。")


def prefix_ids(forms):
    """Several action forms on one page share field names (text, reason, version): prefix each field's
    id with its form's name so every id is unique and every label finds its own field."""
    for name, form in forms.items():
        for field in form:
            field.id = field.label.field_id = f"{name}-{field.short_name}"


class LazyForms(dict):
    """A page's action forms by name, each built by `build(name)` (ids prefixed as prefix_ids does) when the
    template first reads it: a form the page does not show costs nothing."""

    def __init__(self, build):
        super().__init__()
        self.build = build

    def __missing__(self, name):
        form = self[name] = self.build(name)
        prefix_ids({name: form})
        return form


def add_errors(form, errors):
    """Show a service's {field name: message} beside the fields (a name the form lacks goes to the form)."""
    for name, message in errors.items():
        target = form[name] if name in form else None
        if target is None:
            form.form_errors.append(message)
        else:
            target.errors = list(target.errors) + [message]
