"""Salon forms: the salon itself, the public sign-up, the organiser's lists and the entry mode."""
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..models.appeal import CONTENT_MAX
from .base import Form
from .fields import CheckboxesField, ChineseDateField, ChoiceField, int_or_none


class SalonForm(Form):
    theme = StringField("沙龙主题", validators=[DataRequired("请填写沙龙主题。"), Length(max=100, message="主题不能超过100个字。")])
    held_on = ChineseDateField("举办日期", validators=[InputRequired("请填写举办日期。")])
    venue = StringField("地点", validators=[Optional(), Length(max=100, message="地点不能超过100个字。")])
    organiser_unit_id = ChoiceField("主办部门", coerce=int_or_none)
    department_ids = CheckboxesField("参加部门", coerce=int)


class SignupForm(Form):
    enterprise_name = StringField("企业名称", validators=[DataRequired("请填写企业名称。"), Length(max=200, message="企业名称不能超过200个字。")])
    credit_code = StringField("统一社会信用代码", validators=[DataRequired("请填写统一社会信用代码。"), Length(max=40, message="统一社会信用代码应为18位。")])
    contact_name = StringField("联系人", validators=[DataRequired("请填写联系人姓名。"), Length(max=50, message="姓名不能超过50个字。")])
    mobile = StringField("手机号码", validators=[DataRequired("请填写手机号码。"), Length(max=20, message="手机号码应为11位数字。")])
    topic = TextAreaField("希望反映的问题或建议", validators=[
        DataRequired("请填写希望在沙龙上反映的问题或建议。"), Length(max=500, message="不能超过500个字。")])


class PasteForm(Form):
    pasted = TextAreaField("企业名单", validators=[DataRequired("请粘贴企业名称或统一社会信用代码，每行一个。"),
                                               Length(max=50000, message="名单过长，请分批粘贴。")])


class RegistryPickForm(Form):
    enterprise_id = HiddenField(filters=[int_or_none])
    q = StringField("从企业档案选取", validators=[Length(max=100)])


class SummariseForm(Form):
    summary_note = TextAreaField("总结说明", validators=[Optional(), Length(max=5000, message="总结说明不能超过5000字。")])


class EntryForm(Form):
    submission_token = HiddenField()
    enterprise = StringField("参会企业", validators=[DataRequired("请选择参会企业。"), Length(max=200)],
                             description="输入企业名称的一部分或统一社会信用代码，从本次沙龙的参会企业中选择")
    category_id = ChoiceField("诉求类别", coerce=int_or_none)
    content = TextAreaField("诉求内容", validators=[
        DataRequired("请填写诉求内容。"), Length(max=CONTENT_MAX, message=f"诉求内容不能超过{CONTENT_MAX}字。")])
