"""Appeal forms: intake (登记) and every action on an appeal, with Chinese messages."""
from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..models.appeal import CONTENT_MAX, Channel, ReplyOutcome, Satisfaction
from ..models.phrases import PHRASE_MAX
from ..registry_text import validate_mobile
from .base import Form
from .fields import VersionedForm
from .fields import int_or_none as _int_or_none


class IntakeForm(Form):
    submission_token = HiddenField()
    enterprise_id = HiddenField(filters=[_int_or_none])
    enterprise_query = StringField("企业", validators=[Length(max=100)],
                                   description="输入企业名称、拼音首字母或统一社会信用代码")
    new_enterprise_name = StringField("企业名称（未在档案中时登记）", validators=[Optional(), Length(max=100, message="企业名称不能超过100个字。")])
    new_credit_code = StringField("统一社会信用代码", validators=[Optional(), Length(max=30)])
    contact_id = SelectField("联系人", coerce=_int_or_none, validate_choice=False)
    contact_name = StringField("新联系人姓名", validators=[Optional(), Length(max=40, message="姓名不能超过40个字。")])
    contact_mobile = StringField("新联系人手机", validators=[Optional(), Length(max=20)])
    no_contact_reason = StringField("无法提供联系人手机的原因", validators=[
        Optional(), Length(max=200, message="原因不能超过200个字。")])
    category_id = SelectField("诉求类别", coerce=_int_or_none, validate_choice=False)
    channel = SelectField("受理渠道", choices=Channel.choices(), validate_choice=False)
    salon_id = SelectField("所属沙龙", coerce=_int_or_none, validate_choice=False)
    content = TextAreaField("诉求内容", validators=[
        DataRequired("请填写诉求内容。"),
        Length(max=CONTENT_MAX, message=f"诉求内容不能超过{CONTENT_MAX}字。"),
    ])
    files = MultipleFileField("附件")
    attachment_ids = HiddenField()

    def validate_contact_mobile(self, field):
        """Checked with the rest of the form, so one submission reports every mistake at once."""
        if field.data:
            try:
                validate_mobile(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc


class SalonQuickForm(Form):
    theme = StringField("沙龙主题", validators=[DataRequired("请填写沙龙主题。"), Length(max=100)])
    held_on = DateField("举办日期", validators=[InputRequired("请填写举办日期。")])
    venue = StringField("地点", validators=[Optional(), Length(max=100)])


class SignForm(VersionedForm):
    pass


class DispatchForm(VersionedForm):
    lead_unit_id = SelectField("主办部门", coerce=_int_or_none, validate_choice=False)
    co_unit_ids = SelectMultipleField("协办部门", coerce=int, validate_choice=False)
    handling_days = IntegerField("办理时限（工作日）", validators=[Optional(), NumberRange(1, 60, "办理时限应为1至60个工作日。")])
    comment = TextAreaField("派单说明", validators=[Optional(), Length(max=1000)])

    def validate_lead_unit_id(self, field):
        if not field.data:
            raise ValidationError("请选择主办部门。")


class ReturnForm(VersionedForm):
    reason = TextAreaField("退单理由", validators=[DataRequired("请说明退单理由。"), Length(max=1000)])
    suggested_unit_id = SelectField("建议承办部门", coerce=_int_or_none, validate_choice=False)


class AssignForm(VersionedForm):
    assignee_id = SelectField("经办人", coerce=_int_or_none, validate_choice=False)

    def validate_assignee_id(self, field):
        if not field.data:
            raise ValidationError("请选择经办人。")


class NoteForm(Form):
    text = TextAreaField("内部备注", validators=[DataRequired("请填写备注内容。"), Length(max=2000)])


class ExtensionForm(VersionedForm):
    days = IntegerField("延期天数（工作日）", validators=[
        InputRequired("请填写延期天数。"), NumberRange(1, 30, "延期天数应为1至30个工作日。"),
    ])
    reason = TextAreaField("延期理由", validators=[DataRequired("请说明延期理由。"), Length(max=1000)])


class ExtensionDecisionForm(Form):
    decision = RadioField("审批意见", choices=[("approve", "同意延期"), ("refuse", "不同意")],
                          validators=[InputRequired("请选择同意或不同意。")])
    comment = TextAreaField("说明", validators=[Optional(), Length(max=1000)])


class SuperviseForm(VersionedForm):
    comment = TextAreaField("督办意见", validators=[Optional(), Length(max=1000)])


class OpinionForm(Form):
    text = TextAreaField("协办意见", validators=[DataRequired("请填写协办意见。"), Length(max=2000)])


class ReplyForm(VersionedForm):
    outcome = RadioField("办理结果", choices=ReplyOutcome.choices(), validators=[InputRequired("请选择办理结果。")])
    text = TextAreaField("答复内容（企业可见）", validators=[
        DataRequired("请填写答复内容。"), Length(max=CONTENT_MAX, message=f"答复内容不能超过{CONTENT_MAX}字。"),
    ])


class FollowUpForm(VersionedForm):
    satisfaction = RadioField("企业评价", choices=Satisfaction.choices(), validators=[InputRequired("请选择企业评价。")])
    comment = TextAreaField("回访记录", validators=[Optional(), Length(max=1000)])


class WithdrawForm(VersionedForm):
    reason = TextAreaField("撤回原因", validators=[DataRequired("请说明撤回原因。"), Length(max=1000)])


class MergeForm(VersionedForm):
    main_receipt = StringField("主诉求回执号", validators=[DataRequired("请填写主诉求的回执号。"), Length(max=30)],
                               filters=[lambda v: "".join(v.split()).upper() if isinstance(v, str) else v],
                               description="本诉求将并入该诉求办理，答复一并告知本企业")
    reason = TextAreaField("并案说明", validators=[Optional(), Length(max=500, message="并案说明不能超过500个字。")])


class PhraseForm(Form):
    text = TextAreaField("常用语", validators=[
        DataRequired("请填写常用语内容。"), Length(max=PHRASE_MAX, message=f"常用语不能超过{PHRASE_MAX}个字。")])
    position = IntegerField("排序", default=0, validators=[Optional(), NumberRange(0, 999, "排序应为0至999的整数，小的在前。")])
