"""Policy catalogue forms: a policy and one checklist item, with Chinese messages beside the fields."""
import re
import unicodedata

from wtforms import (
    BooleanField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..models import PolicyLevel
from ..services.files import ACCEPTED
from ..services.money import AmountError, parse_amount
from .base import Form
from .fields import CheckboxesField as FormatsField
from .fields import ChineseDateField as DayField
from .fields import ChineseIntegerField as WorkingDaysField
from .fields import int_or_none as _int_or_none
from .fields import strip_or_none as _strip

CODE_MAX, TITLE_MAX, DESCRIPTION_MAX, ITEM_NAME_MAX, ITEM_NOTE_MAX = 30, 200, 5000, 100, 300
_CODE = re.compile(r"[A-Z0-9][A-Z0-9._\-]*")


def _code(value):
    """Full-width letters and digits to ASCII, upper case, no spaces: 'gx-２０２６-01' → 'GX-2026-01'."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFKC", value).strip().replace(" ", "").upper() or None




class PolicyForm(Form):
    code = StringField("政策编号", filters=[_code], description="字母、数字、连字符，如 GX-KJ-2026-01", validators=[
        DataRequired("请填写政策编号。"), Length(max=CODE_MAX, message=f"政策编号不能超过{CODE_MAX}个字符。"),
    ])
    title = StringField("政策名称", filters=[_strip], validators=[
        DataRequired("请填写政策名称。"), Length(max=TITLE_MAX, message=f"政策名称不能超过{TITLE_MAX}个字。"),
    ])
    level = SelectField("政策层级", choices=[SelectChoice(v, t) for v, t in PolicyLevel.choices()],
                        invalid_choice_message="请选择区级、市级或省级。")
    department_id = SelectField("主管部门", coerce=_int_or_none, validate_choice=False)
    opens_on = DayField("申报开始日期", validators=[Optional()], description="不填表示随时可以申报")
    closes_on = DayField("申报截止日期", validators=[Optional()], description="不填表示长期有效")
    max_amount = StringField("最高金额（元）", description="如 500000 或 500,000.00", validators=[
        DataRequired("请填写最高金额。"),
    ])
    review_days = WorkingDaysField("审查时限（工作日）", default=20, invalid_message="请填写整数，如 20。", validators=[
        InputRequired("请填写审查时限。"), NumberRange(1, 90, "审查时限应为1至90个工作日。"),
    ])
    description = TextAreaField("政策说明", filters=[_strip], validators=[
        Optional(), Length(max=DESCRIPTION_MAX, message=f"政策说明不能超过{DESCRIPTION_MAX}字。"),
    ])
    active = BooleanField("启用（在目录中向工作人员显示）", default=True)
    version = HiddenField(filters=[_int_or_none])

    #: The max amount as a Decimal, set by validate_max_amount.
    amount = None
    #: The policy being edited (None when creating), so its own code is not a duplicate.
    editing = None

    def validate_code(self, field):
        """Letters, digits and -_. only; not another policy's code."""
        from ..services.policies import find_by_code

        if not _CODE.fullmatch(field.data):
            raise ValidationError("政策编号只能包含字母、数字、连字符、下划线和点。")
        existing = find_by_code(field.data)
        if existing is not None and existing is not self.editing:
            raise ValidationError(f"政策编号 {field.data} 已被“{existing.title}”使用。")

    def validate_department_id(self, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("请从列表中选择您有权管理的部门。")

    def validate_max_amount(self, field):
        try:
            self.amount = parse_amount(field.data)
        except AmountError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_closes_on(self, field):
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError("申报截止日期不能早于开始日期。")

    def policy_data(self):
        """The policy's fields as a dict for services.policies."""
        data = {f: getattr(self, f).data for f in (
            "code", "title", "level", "department_id", "opens_on", "closes_on", "review_days", "description", "active")}
        data["max_amount"] = self.amount
        return data


class ItemForm(Form):
    """One material of the checklist; pages use a prefix per item so every field id is unique."""

    name = StringField("材料名称", filters=[_strip], validators=[
        DataRequired("请填写材料名称。"), Length(max=ITEM_NAME_MAX, message=f"材料名称不能超过{ITEM_NAME_MAX}个字。"),
    ])
    required = BooleanField("必须提交", default=True)
    formats = FormatsField("接受的文件格式", choices=[SelectChoice(key, label) for key, (_, label) in ACCEPTED.items()],
                           default=list(ACCEPTED), invalid_message="文件格式只能从列表中选择。")
    note = StringField("给申报企业的说明", filters=[_strip], validators=[
        Optional(), Length(max=ITEM_NOTE_MAX, message=f"说明不能超过{ITEM_NOTE_MAX}个字。"),
    ])
    version = HiddenField(filters=[_int_or_none])

    def validate_formats(self, field):
        if not field.data:
            raise ValidationError("请至少选择一种接受的文件格式。")

    def item_data(self):
        return {"name": self.name.data, "required": self.required.data, "formats": self.formats.data,
                "note": self.note.data}


class VersionForm(Form):
    """A button-only action (move, delete) that carries the policy version the user saw."""

    version = HiddenField(filters=[_int_or_none])
