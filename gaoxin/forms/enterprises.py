"""Enterprise forms: create and edit an enterprise by hand, upload a registry export; Chinese messages."""
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..models import EnterpriseSize
from ..reference import INDUSTRY_SECTIONS
from ..registry_text import CreditCodeError, normalize_credit_code
from .base import Form
from .fields import ChoiceField, MainlandMobile
from .fields import int_or_none as _int_or_none
from .fields import strip_or_none as _strip

#: Field lengths, as the columns allow them.
NAME_MAX, LEGAL_REP_MAX, ADDRESS_MAX, CONTACT_NAME_MAX = 100, 40, 200, 40


def industry_choices():
    """GB/T 4754 sections as select choices, with an empty first choice."""
    return [SelectChoice("", "（未填写）")] + [SelectChoice(letter, f"{letter} {title}") for letter, title in INDUSTRY_SECTIONS.items()]


def size_choices():
    """Enterprise sizes as select choices, with an empty first choice."""
    return [SelectChoice("", "（未填写）")] + [SelectChoice(value, title) for value, title in EnterpriseSize.choices()]


def building_choices(buildings):
    """Buildings as select choices, the first meaning 'not in a served building'."""
    return [SelectChoice("", "（不在服务楼宇内）")] + [SelectChoice(str(b.id), b.name) for b in buildings]


class EnterpriseForm(Form):
    """The enterprise's identity: what the create and edit pages share."""

    name = StringField("企业名称", filters=[_strip], validators=[
        DataRequired("请填写企业名称。"), Length(max=NAME_MAX, message=f"企业名称不能超过{NAME_MAX}个字。"),
    ])
    credit_code = StringField("统一社会信用代码", filters=[_strip], validators=[DataRequired("请填写统一社会信用代码。")],
                              description="18位，含校验位；空格和连字符会自动去掉")
    legal_rep = StringField("法定代表人", filters=[_strip], validators=[
        Optional(), Length(max=LEGAL_REP_MAX, message=f"法定代表人不能超过{LEGAL_REP_MAX}个字。"),
    ])
    address = StringField("住所", filters=[_strip], validators=[
        Optional(), Length(max=ADDRESS_MAX, message=f"住所不能超过{ADDRESS_MAX}个字。"),
    ])
    building_id = SelectField("所在楼宇", coerce=_int_or_none, validate_choice=False)
    industry = ChoiceField("行业门类（GB/T 4754）", choices=industry_choices(), invalid_message="请从列表中选择行业门类。")
    size = ChoiceField("企业规模", choices=size_choices(), invalid_message="请从列表中选择企业规模。")

    #: Set by validate_credit_code when the code is already registered: the template links to it.
    duplicate = None
    #: The enterprise being edited (None when creating), so its own code is not a duplicate.
    editing = None

    def validate_credit_code(self, field):
        """Normalise the code, say which GB 32100 rule it breaks, and refuse one already registered."""
        from ..services.enterprises import find_by_credit_code

        try:
            field.data = normalize_credit_code(field.data)
        except CreditCodeError as exc:
            raise ValidationError(str(exc)) from exc
        existing = find_by_credit_code(field.data)
        if existing is not None and existing is not self.editing:
            self.duplicate = existing
            raise ValidationError(f"该统一社会信用代码已登记：{existing.name}")

    def validate_building_id(self, field):
        """Only a building from the list (or none)."""
        valid = {_int_or_none(choice.value) for choice in field.choices}
        if field.data not in valid:
            raise ValidationError("请从列表中选择楼宇。")

    def enterprise_data(self):
        """The enterprise fields as a dict for services.enterprises."""
        data = {f: getattr(self, f).data for f in ("name", "credit_code", "legal_rep", "address", "building_id", "industry", "size")}
        # "（未填写）" is the empty choice: stored as NULL.
        return {k: (None if v == "" else v) for k, v in data.items()}


class NewEnterpriseForm(EnterpriseForm):
    """Creating an enterprise also records its first contact."""

    contact_name = StringField("联系人姓名", filters=[_strip], validators=[
        Length(max=CONTACT_NAME_MAX, message=f"联系人姓名不能超过{CONTACT_NAME_MAX}个字。"),
    ])
    contact_mobile = StringField("联系人手机", filters=[_strip], validators=[Optional(), MainlandMobile()],
                                 description="11位手机号码，可带 +86、空格或连字符")

    def validate_contact_name(self, field):
        """A mobile number needs a name to go with it."""
        if not field.data and self.contact_mobile.data:
            raise ValidationError("填写了手机号码，请同时填写联系人姓名。")


class EditEnterpriseForm(EnterpriseForm):
    """Editing carries the version the user saw (optimistic locking)."""

    version = HiddenField(filters=[_int_or_none])


class ImportForm(Form):
    """One registry export: CSV (UTF-8 or GBK) or XLSX."""

    file = FileField("企业名录文件（CSV或XLSX）", validators=[FileRequired("请选择要导入的文件。")])
