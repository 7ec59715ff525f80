"""The audit log (审计日志): who did what to which object, from where, with what result."""
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

#: Audit actions and their Chinese names; the auditor filters by these.
AUDIT_ACTION_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "lockout": "账号锁定",
    "logout": "退出登录",
    "session_expired": "会话超时",
    "password_changed": "修改密码",
    "access_denied": "拒绝访问",
    "unit_created": "新建单位",
    "unit_updated": "修改单位",
    "user_created": "新建用户",
    "user_updated": "修改用户",
    "user_disabled": "停用用户",
    "user_enabled": "启用用户",
    "password_reset": "重置密码",
    "roles_changed": "变更角色",
    "account_unlocked": "解除锁定",
    "enterprise_created": "新建企业",
    "enterprise_updated": "修改企业",
    "enterprises_imported": "导入企业",
    "mobile_revealed": "查看完整手机号",
    "config_changed": "修改配置",
}

AUDIT_RESULT_LABELS = {"ok": "成功", "failed": "失败", "denied": "拒绝"}

#: Audited object types (the model's class name) and their Chinese names, for the auditor's filter.
AUDIT_OBJECT_LABELS = {
    "User": "用户",
    "Unit": "单位",
    "Enterprise": "企业",
    "ImportJob": "企业导入",
    "Appeal": "诉求",
    "Application": "政策申报",
    "Policy": "政策",
    "Salon": "高新沙龙",
}


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The name typed at login (for failures by unknown users) or the actor's username.
    username: Mapped[str | None] = mapped_column(String(80))
    ip: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    result: Mapped[str] = mapped_column(String(10), default="ok")
    detail: Mapped[str | None] = mapped_column(Text)

    user = relationship("User", lazy="raise_on_sql")

    @property
    def action_title(self):
        return AUDIT_ACTION_LABELS.get(self.action, self.action)

    @property
    def result_title(self):
        return AUDIT_RESULT_LABELS.get(self.result, self.result)

    @property
    def object_title(self):
        if not self.object_type:
            return ""
        kind = AUDIT_OBJECT_LABELS.get(self.object_type, self.object_type)
        return f"{kind} #{self.object_id}" if self.object_id else kind


Index("ix_audit_entries_action_at", AuditEntry.action, AuditEntry.at)
