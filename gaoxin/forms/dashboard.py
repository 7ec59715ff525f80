"""The dashboard's period form: this month, this year or a custom range (GET, no CSRF)."""
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from .base import Form
from .fields import ChineseDateField

#: The periods the dashboard offers.
PERIODS = [("month", "本月"), ("year", "本年"), ("custom", "自定义")]


class PeriodForm(Form):
    class Meta:
        csrf = False

    period = SelectField("统计期间", choices=PERIODS, default="month", validate_choice=False)
    start = ChineseDateField("开始日期", validators=[Optional()])
    end = ChineseDateField("结束日期", validators=[Optional()])

    def validate_period(self, field):
        if field.data not in dict(PERIODS):
            raise ValidationError("请选择统计期间。")

    def validate_end(self, field):
        if self.period.data != "custom" or self.start.errors:
            return
        if not self.start.data or not field.data:
            raise ValidationError("自定义期间须填写开始日期和结束日期。")
        if field.data < self.start.data:
            raise ValidationError("结束日期不能早于开始日期。")
        if (field.data - self.start.data).days > 3660:
            raise ValidationError("统计期间不能超过10年。")
