"""The audit log's filter form: a plain GET form (no CSRF token: it changes nothing)."""
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from ..models.audit import AUDIT_ACTION_LABELS, AUDIT_OBJECT_LABELS, AUDIT_RESULT_LABELS
from .base import Form
from .fields import ChineseDateField, ChoiceField, select_choices


def _all(labels):
    return select_choices([("", "全部")] + list(labels.items()))


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    action = ChoiceField("操作", choices=_all(AUDIT_ACTION_LABELS), validators=[Optional()])
    result = ChoiceField("结果", choices=_all(AUDIT_RESULT_LABELS), validators=[Optional()])
    username = StringField("用户名", validators=[Optional(), Length(max=80, message="用户名不超过80个字符。")])
    date_from = ChineseDateField("开始日期", validators=[Optional()])
    date_to = ChineseDateField("结束日期", validators=[Optional()])
    object_type = ChoiceField("对象类型", choices=_all(AUDIT_OBJECT_LABELS), validators=[Optional()])
    object_id = StringField("对象编号", validators=[Optional(), Length(max=40, message="对象编号不超过40个字符。")])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("结束日期不能早于开始日期。")
