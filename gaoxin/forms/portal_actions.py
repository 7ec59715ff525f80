"""Portal action forms (an enterprise acting online): raise an appeal, answer a supplement notice, rate a reply."""
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..models.appeal import CONTENT_MAX, Satisfaction
from .base import Form
from .fields import VersionedForm, int_or_none

COMMENT_MAX = 1000


class OnlineAppealForm(Form):
    """网上提诉求: category, content, attachments; the one-time token makes a double submit create one."""

    submission_token = HiddenField()
    category_id = SelectField("诉求类别", coerce=int_or_none, validate_choice=False)
    content = TextAreaField("诉求内容", validators=[
        DataRequired("请填写诉求内容。"), Length(max=CONTENT_MAX, message=f"诉求内容不能超过{CONTENT_MAX}字。")])
    attachments = MultipleFileField("附件（可选）", description="PDF、JPG、PNG、DOCX、XLSX，每个不超过20MB")

    def validate_category_id(self, field):
        if field.data not in {value for value, _ in field.choices if value}:
            raise ValidationError("请选择诉求类别。")


class SupplementForm(VersionedForm):
    """补正: the files come as item_<PolicyItem id> fields, read by the view (one per item of the notice)."""


class SatisfactionForm(VersionedForm):
    """The enterprise's own 回访 of a reply."""

    satisfaction = RadioField("您对答复是否满意", choices=Satisfaction.choices(), validate_choice=False)
    comment = TextAreaField("意见（不满意时请说明原因）", validators=[
        Length(max=COMMENT_MAX, message=f"意见不能超过{COMMENT_MAX}字。")])

    def validate_satisfaction(self, field):
        if field.data not in {s.value for s in Satisfaction}:
            raise ValidationError("请选择满意、基本满意或不满意。")
