"""Log-in and password-change forms, with the password policy."""
import re

from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .base import Form

#: 等保 password policy: at least 10 characters from at least 3 of 4 classes.
PASSWORD_MIN_LENGTH = 10
PASSWORD_CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]")


def password_problem(password):
    """The Chinese reason `password` breaks the policy, or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"密码至少{PASSWORD_MIN_LENGTH}位。"
    if sum(bool(re.search(p, password)) for p in PASSWORD_CLASSES) < 3:
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类。"
    return None


def strong_password(form, field):
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=40)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=200)])


class PasswordChangeForm(Form):
    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码。")])
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码。"), strong_password])
    confirm = PasswordField(
        "再次输入新密码",
        validators=[DataRequired("请再次输入新密码。"), EqualTo("new", "两次输入的新密码不一致。")],
    )

    def validate_new(self, field):
        if field.data and field.data == self.current.data:
            raise ValidationError("新密码不能与当前密码相同。")
