"""The contact form staff use to correct or remove an enterprise's contact; Chinese messages."""
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from .base import Form
from .enterprises import CONTACT_NAME_MAX
from .fields import MainlandMobile, int_or_none, strip_or_none

TITLE_MAX = 40


class ContactForm(Form):
    """Name, mobile and title of one contact, with the version the user saw (optimistic locking)."""

    name = StringField("联系人姓名", filters=[strip_or_none], validators=[
        DataRequired("请填写联系人姓名。"),
        Length(max=CONTACT_NAME_MAX, message=f"联系人姓名不能超过{CONTACT_NAME_MAX}个字。"),
    ])
    mobile = StringField("手机号码", filters=[strip_or_none], validators=[Optional(), MainlandMobile()],
                         description="11位手机号码，可带 +86、空格或连字符；不填表示没有手机号")
    title = StringField("职务", filters=[strip_or_none], validators=[
        Optional(), Length(max=TITLE_MAX, message=f"职务不能超过{TITLE_MAX}个字。"),
    ])
    version = HiddenField(filters=[int_or_none])


class RemoveContactForm(Form):
    """Removing carries only the version the user saw."""

    version = HiddenField(filters=[int_or_none])
