"""Admin forms: units, users, roles and the list filters, with Chinese messages for bad choices."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import Role, UnitKind


class _ChineseInvalid:
    """Replace WTForms' English 'Not a valid choice' / coercion messages with `invalid_message`."""

    invalid_message = "所选项无效，请重新选择。"

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


class ChoiceField(_ChineseInvalid, SelectField):
    """A select whose invalid value gets a Chinese message."""


class CheckboxesField(_ChineseInvalid, SelectMultipleField):
    """A group of checkboxes (one per choice) whose invalid value gets a Chinese message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ChineseDateField(_ChineseInvalid, DateField):
    """A date input (YYYY-MM-DD) whose unreadable value gets a Chinese message."""

    invalid_message = "日期格式应为“年-月-日”，如 2026-03-01。"


def select_choices(pairs):
    """(value, label) pairs as WTForms SelectChoice objects (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def optional_int(value):
    """Coerce a select's value to int, with '' (all / none chosen) as None."""
    if value in ("", None):
        return None
    return int(value)


class UnitForm(FlaskForm):
    name = StringField(
        "单位名称",
        validators=[DataRequired("请输入单位名称。"), Length(max=60, message="单位名称不超过60个字。")],
    )
    kind = ChoiceField("单位类型", choices=select_choices(UnitKind.choices()), validators=[DataRequired("请选择单位类型。")])
    is_paying_unit = BooleanField("拨付单位（负责拨付政策资金，仅限职能部门）")


_USERNAME_RULE = Regexp(r"^[A-Za-z0-9._-]{3,40}$", message="用户名为3至40位英文字母、数字或 . _ -。")
_NAME_RULES = [DataRequired("请输入姓名。"), Length(max=40, message="姓名不超过40个字。")]


class UserEditForm(FlaskForm):
    name = StringField("姓名", validators=_NAME_RULES)
    unit_id = ChoiceField("所在单位", coerce=optional_int, validators=[DataRequired("请选择所在单位。")])
    roles = CheckboxesField("业务角色", validators=[DataRequired("请至少选择一个角色。")])

    def set_choices(self, units, roles):
        self.unit_id.choices = select_choices([("", "请选择单位")] + [(u.id, u.name) for u in units])
        self.roles.choices = select_choices((r.value, r.title) for r in roles)


class UserCreateForm(UserEditForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), _USERNAME_RULE])


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("用户名或姓名", validators=[Optional(), Length(max=40)])
    unit_id = ChoiceField("单位", coerce=optional_int, validators=[Optional()])

    def set_choices(self, units):
        self.unit_id.choices = select_choices([("", "全部单位")] + [(u.id, u.name) for u in units])


class RolesForm(FlaskForm):
    roles = CheckboxesField("角色", choices=select_choices(Role.choices()), validators=[Optional()])


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("用户名或姓名", validators=[Optional(), Length(max=40)])
