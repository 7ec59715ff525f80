"""Policy application forms: intake (收件) and every action on an application, with Chinese messages."""
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..services.money import parse_amount
from .appeals import IntakeForm as AppealIntakeForm
from .base import Form
from .fields import VersionedForm
from .fields import int_or_none as _int_or_none


class Amount:
    """Validate a yuan amount with services.money.parse_amount; the Decimal lands in `field.amount`."""

    def __call__(self, form, field):
        field.amount = None
        try:
            field.amount = parse_amount(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class IntakeForm(Form):
    submission_token = HiddenField()
    version = HiddenField(filters=[_int_or_none])
    enterprise_id = AppealIntakeForm.enterprise_id
    enterprise_query = AppealIntakeForm.enterprise_query
    new_enterprise_name = AppealIntakeForm.new_enterprise_name
    new_credit_code = AppealIntakeForm.new_credit_code
    contact_id = AppealIntakeForm.contact_id
    contact_name = AppealIntakeForm.contact_name
    contact_mobile = AppealIntakeForm.contact_mobile
    policy_id = SelectField("申报政策", coerce=_int_or_none, validate_choice=False)
    declared_amount = StringField("申报金额（元）", validators=[Amount()],
                                  description="如 1000 或 1,000.50，最多两位小数")
    attachment_ids = HiddenField()

    def validate_policy_id(self, field):
        if not field.data:
            raise ValidationError("请选择申报政策。")


class CheckForm(VersionedForm):
    """形式审查: the per-item marks come as mark-<item id> / reason-<item id>; the decision is the button."""

    decision = HiddenField()
    reason = TextAreaField("不予受理理由", validators=[Optional(), Length(max=1000)])


class MaterialsForm(VersionedForm):
    """补充材料: per item file-<item id> uploads and paper-<item id> checkboxes."""

    attachment_ids = HiddenField()


class ApproveForm(VersionedForm):
    amount = StringField("核定金额（元）", validators=[Amount()])
    comment = TextAreaField("审查意见", validators=[Optional(), Length(max=1000)])


class RejectForm(VersionedForm):
    reason = TextAreaField("不通过理由（企业可见）", validators=[DataRequired("请说明审核不通过的理由。"), Length(max=1000)])


class BackForm(VersionedForm):
    item_ids = SelectMultipleField("需补正的材料", coerce=int, validate_choice=False)
    reason = TextAreaField("补正要求（企业可见）", validators=[DataRequired("请说明需要补正的内容。"), Length(max=300)])

    def validate_item_ids(self, field):
        if not field.data:
            raise ValidationError("请选择需要补正的材料。")


class IssueResultForm(VersionedForm):
    pass


class ResubmitForm(VersionedForm):
    pass


class DisburseForm(VersionedForm):
    amount = StringField("拨付金额（元）", validators=[Amount()])
    disbursed_on = DateField("拨付日期", validators=[InputRequired("请填写拨付日期。")],
                             render_kw={"type": "date"})
