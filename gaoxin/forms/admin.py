"""Admin forms: units, users, roles and the list filters, with Chinese messages for bad choices."""
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..models import Role, UnitKind
from .base import Form
from .fields import CheckboxesField, ChoiceField, select_choices
from .fields import int_or_none as optional_int


class UnitForm(Form):
    name = StringField(
        "单位名称",
        validators=[DataRequired("请输入单位名称。"), Length(max=60, message="单位名称不超过60个字。")],
    )
    kind = ChoiceField("单位类型", choices=select_choices(UnitKind.choices()), validators=[DataRequired("请选择单位类型。")])
    is_paying_unit = BooleanField("拨付单位（负责拨付政策资金，仅限职能部门）")
    phone = StringField("对外电话", validators=[Length(max=30, message="电话不超过30个字符。")],
                        description="印在回执和通知书上，如 028-85180001")


_USERNAME_RULE = Regexp(r"^[A-Za-z0-9._-]{3,40}$", message="用户名为3至40位英文字母、数字或 . _ -。")
_NAME_RULES = [DataRequired("请输入姓名。"), Length(max=40, message="姓名不超过40个字。")]


class UserEditForm(Form):
    """The system admin's account form: no roles (三员分立: the security admin grants them)."""

    name = StringField("姓名", validators=_NAME_RULES)
    unit_id = ChoiceField("所在单位", coerce=optional_int, validators=[DataRequired("请选择所在单位。")])

    def set_choices(self, units):
        self.unit_id.choices = select_choices([("", "请选择单位")] + [(u.id, u.name) for u in units])


class UserCreateForm(UserEditForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), _USERNAME_RULE])


class UserFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField("用户名或姓名", validators=[Optional(), Length(max=40)])
    unit_id = ChoiceField("单位", coerce=optional_int, validators=[Optional()])

    def set_choices(self, units):
        self.unit_id.choices = select_choices([("", "全部单位")] + [(u.id, u.name) for u in units])


class RolesForm(Form):
    roles = CheckboxesField("角色", choices=select_choices(Role.choices()), validators=[Optional()])


class SearchForm(Form):
    class Meta:
        csrf = False

    q = StringField("用户名或姓名", validators=[Optional(), Length(max=40)])
