"""Portal forms: the enterprise log-in, activation with a printed code, and the password change."""
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from .auth import PasswordChangeForm, strong_password
from .base import Form

#: Log-in names: letters, digits and . _ - @ (a mobile number works), 4–40 characters.
LOGIN_NAME_PATTERN = r"^[A-Za-z0-9_.@-]{4,40}$"


class PortalLoginForm(Form):
    login_name = StringField("登录名", validators=[DataRequired("请输入登录名。"), Length(max=40)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=200)])


class ActivationForm(Form):
    credit_code = StringField("企业统一社会信用代码", validators=[
        DataRequired("请填写企业的统一社会信用代码。"), Length(max=40, message="统一社会信用代码应为18位。")])
    code = StringField("激活码", validators=[
        DataRequired("请填写回执或通知书上打印的激活码。"), Length(max=40, message="激活码为12位字母和数字。")])
    login_name = StringField("登录名", validators=[
        DataRequired("请设置登录名。"),
        Regexp(LOGIN_NAME_PATTERN, message="登录名为4至40位字母、数字或 . _ - @，可以使用手机号。")])
    password = PasswordField("设置密码", validators=[DataRequired("请设置密码。"), strong_password])
    confirm = PasswordField("再次输入密码", validators=[
        DataRequired("请再次输入密码。"), EqualTo("password", "两次输入的密码不一致。")])


class PortalPasswordForm(PasswordChangeForm):
    """The staff change form's fields and policy, for an enterprise account."""
