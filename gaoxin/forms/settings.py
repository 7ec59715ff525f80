"""Settings forms: appeal categories (routing rules), working-day overrides and the deadline calculator."""
from flask import current_app
from wtforms import (
    BooleanField, RadioField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..models.appeal import DEFAULT_HANDLING_DAYS
from .base import Form
from .fields import ChineseDateField, ChineseIntegerField
from .fields import int_or_none as _int_or_none

INVALID_CHOICE = "所选部门无效，请重新选择。"


class CategoryForm(Form):
    name = StringField(
        "类别名称", filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired("请输入类别名称。"), Length(max=30, message="类别名称不超过30个字。")],
    )
    # A tampered or stale form gets a Chinese message, not WTForms' English one.
    lead_unit_id = SelectField(
        "主办部门", coerce=_int_or_none, invalid_choice_message=INVALID_CHOICE, invalid_value_message=INVALID_CHOICE,
    )
    co_unit_ids = SelectMultipleField(
        "协办部门", coerce=int, invalid_choice_message=INVALID_CHOICE, invalid_value_message=INVALID_CHOICE,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )
    handling_days = ChineseIntegerField(
        "办理时限（工作日）", default=DEFAULT_HANDLING_DAYS,
        validators=[InputRequired("请输入办理时限。"), NumberRange(1, 60, "办理时限应为1至60个工作日。")],
    )
    position = ChineseIntegerField(
        "排序", default=0,
        validators=[Optional(), NumberRange(0, 999, "排序应为0至999的整数，小的在前。")],
    )
    active = BooleanField("启用（登记诉求时可选）", default=True)

    def set_departments(self, departments):
        """Offer these departments as lead and co-handlers."""
        centre = current_app.config["GAOXIN_CENTRE_NAME"]
        self.lead_unit_id.choices = [SelectChoice("", f"（不指定：进入{centre}待派单队列）")] + [
            SelectChoice(u.id, u.name) for u in departments
        ]
        self.co_unit_ids.choices = [SelectChoice(u.id, u.name) for u in departments]

    def validate_co_unit_ids(self, field):
        if self.lead_unit_id.data is not None and self.lead_unit_id.data in (field.data or []):
            raise ValidationError("主办部门不能同时作为协办部门，请取消勾选。")


class OverrideForm(Form):
    day = ChineseDateField("日期", validators=[InputRequired("请选择日期。")])
    is_workday = RadioField(
        "调整为", choices=[SelectChoice("1", "上班（调休工作日）"), SelectChoice("0", "放假（节假日）")],
        validators=[InputRequired("请选择上班或放假。")], invalid_choice_message="请选择上班或放假。",
    )
    note = StringField("说明", validators=[Optional(), Length(max=60, message="说明不超过60个字。")])


class PreviewForm(Form):
    """The deadline calculator: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    start = ChineseDateField("起算日期", validators=[InputRequired("请选择起算日期。")])
    days = ChineseIntegerField(
        "工作日数", default=DEFAULT_HANDLING_DAYS,
        validators=[InputRequired("请输入工作日数。"), NumberRange(1, 250, "工作日数应为1至250。")],
    )


class NoticeForm(Form):
    """A year confirmed as a whole: the State Council's holiday notice pasted line by line, parsed, then saved."""

    year = SelectField("年份", coerce=_int_or_none, invalid_choice_message="请选择可录入的年份。",
                       invalid_value_message="请选择可录入的年份。", validators=[InputRequired("请选择年份。")])
    notice = TextAreaField(
        "放假通知", filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired("请粘贴国务院办公厅放假通知的各行。"),
                    Length(max=5000, message="通知内容不超过5000个字。")],
    )

    def set_years(self, years):
        """Offer these years."""
        self.year.choices = [SelectChoice(y, f"{y}年") for y in years]
