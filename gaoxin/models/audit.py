"""The audit log (审计日志): who did what to which object, from where, with what result; append-only.

Rows are sealed into a keyed hash chain (services/audit.py explains the design). This module guards
the table: the ORM refuses to change an entry once written (only the sealing step fills the three
chain columns of a row its own transaction inserted) and refuses to delete one, except for the
archive command's bulk delete of rows it has written to an archive file first.
"""
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

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
    #: Role-level refusals (403) and attempts on objects outside the user's sight (404): 越权尝试.
    "access_denied": "越权尝试",
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
    "contact_updated": "修改联系人",
    "contact_removed": "移除联系人",
    "portal_appeal_raised": "企业网上提诉求",
    "portal_supplement_sent": "企业网上补正材料",
    "portal_satisfaction_given": "企业网上评价答复",
    "config_changed": "修改配置",
    "audit_verified": "校验审计链",
    "audit_archived": "归档审计日志",
    "data_exported": "导出数据",
    "export_downloaded": "下载后台导出文件",
    "job_retried": "重试后台任务",
    "salon_created": "新建沙龙",
    "salon_updated": "修改沙龙",
    "salon_published": "发布沙龙报名",
    "salon_held": "沙龙已举办",
    "salon_summarised": "沙龙总结",
    "salon_signup_accepted": "接受沙龙报名",
    "salon_signup_declined": "婉拒沙龙报名",
    "salon_participants_added": "添加参会企业",
    "salon_participant_removed": "移出参会企业",
    # The enterprise portal (企业用户): log-ins, activation, accounts kept by clerks, and every enterprise action.
    "portal_login": "企业用户登录",
    "portal_login_failed": "企业用户登录失败",
    "portal_lockout": "企业账号锁定",
    "portal_logout": "企业用户退出",
    "portal_activated": "企业账号激活",
    "portal_activation_failed": "企业账号激活失败",
    "portal_password_changed": "企业用户修改密码",
    "portal_code_issued": "生成激活码",
    "portal_account_created": "新建企业账号",
    "portal_account_disabled": "停用企业账号",
    "portal_account_enabled": "启用企业账号",
    "portal_notice_viewed": "企业用户查看通知书",
}

AUDIT_RESULT_LABELS = {"ok": "成功", "failed": "失败", "denied": "拒绝"}

#: What a refused request tried (the detail of an access_denied entry: a permission of permissions.py, or
#: "<object>.<action>" for a case outside the user's sight), in words the auditor reads.
PERMISSION_LABELS = {
    "enterprise.view": "查看企业档案",
    "enterprise.create": "登记企业",
    "enterprise.edit": "修改企业档案",
    "enterprise.reveal_mobile": "查看完整手机号",
    "enterprise.import": "导入企业",
    "enterprise.accounts": "管理企业账号",
    "unit.manage": "管理单位",
    "user.manage": "管理用户",
    "user.roles": "分配角色",
    "user.unlock": "解除账号锁定",
    "audit.view": "查看审计日志",
    "appeal.create": "登记诉求",
    "appeal.list": "查看诉求列表",
    "appeal.view": "查看诉求",
    "appeal.dispatch": "派单",
    "appeal.supervise": "督办",
    "appeal.decide_extension": "审批延期",
    "inbox.view": "查看部门收件箱",
    "appeal.sign": "签收诉求",
    "appeal.return": "退单",
    "appeal.extend": "申请延期",
    "appeal.reply": "答复诉求",
    "appeal.opinion": "提交协办意见",
    "appeal.assign": "指派经办人",
    "appeal.note": "添加内部备注",
    "appeal.follow_up": "回访",
    "appeal.withdraw": "撤回诉求",
    "appeal.merge": "并案",
    "phrase.manage": "管理常用语",
    "phrase.use": "使用常用语",
    "application.create": "政策申报收件",
    "application.list": "查看政策申报列表",
    "application.view": "查看政策申报",
    "application.check": "形式审查",
    "application.review": "实质审查",
    "application.disburse": "拨付",
    "settings.manage": "修改系统设置",
    "jobs.manage": "管理后台任务",
    "job.view": "查看他人的后台任务",
    "job.download": "下载他人的导出文件",
    "policy.view": "查看政策目录",
    "policy.manage": "维护政策",
    "salon.view": "查看高新沙龙",
    "salon.manage": "管理高新沙龙",
    "salon.enter": "沙龙现场登记",
    "figures.view": "查看统计",
    "figures.all_departments": "查看全部部门统计",
    "portal.staff": "工作人员访问企业页面",
    "portal.staff_page": "企业用户访问工作人员页面",
    "portal.case": "企业用户查看他企事项",
}

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
    "Contact": "企业联系人",
    "Export": "导出",
    "Job": "后台任务",
    "EnterpriseAccount": "企业账号",
    "Endpoint": "页面",
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
    #: Position in the hash chain (1, 2, …), given when the writing transaction commits; never reused.
    seq: Mapped[int | None] = mapped_column(BigInteger, index=True, unique=True)
    #: The previous entry's hash (or the archive anchor's, or GENESIS_HASH for the first entry).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    #: HMAC-SHA256 (GAOXIN_AUDIT_KEY) over prev_hash and this entry's fields, hex.
    hash: Mapped[str | None] = mapped_column(String(64))

    user = relationship("User", lazy="raise_on_sql")

    @property
    def action_title(self):
        return AUDIT_ACTION_LABELS.get(self.action, self.action)

    @property
    def result_title(self):
        return AUDIT_RESULT_LABELS.get(self.result, self.result)

    @property
    def detail_title(self):
        """The detail as the auditor reads it: a refused permission by its Chinese name (code kept after it)."""
        if self.action == "access_denied" and self.detail in PERMISSION_LABELS:
            return f"{PERMISSION_LABELS[self.detail]}（{self.detail}）"
        return self.detail or ""

    @property
    def object_kind_title(self):
        return AUDIT_OBJECT_LABELS.get(self.object_type, self.object_type or "")

    @property
    def object_title(self):
        if not self.object_type:
            return ""
        kind = AUDIT_OBJECT_LABELS.get(self.object_type, self.object_type)
        return f"{kind} #{self.object_id}" if self.object_id else kind


Index("ix_audit_entries_action_at", AuditEntry.action, AuditEntry.at)

#: Object type → the column that names an object of that type (for `names_of`).
_NAMING_COLUMNS = {
    "User": "name", "Unit": "name", "Enterprise": "name", "Appeal": "receipt_no", "Application": "receipt_no",
    "Policy": "title", "Salon": "theme", "ImportJob": "filename", "Contact": "name",
}


def names_of(entries):
    """{"users": {user id: name}, "objects": {(object type, object id): name}} for a page of entries, one
    query per kind: the log names people and objects, not "用户 #10". Read-only."""
    from sqlalchemy import select

    from . import Appeal, Application, Contact, Enterprise, ImportJob, Policy, Salon, Unit, User

    models = {"User": User, "Unit": Unit, "Enterprise": Enterprise, "Appeal": Appeal, "Application": Application,
              "Policy": Policy, "Salon": Salon, "ImportJob": ImportJob, "Contact": Contact}
    wanted = {}
    for entry in entries:
        if entry.user_id:
            wanted.setdefault("User", set()).add(entry.user_id)
        if entry.object_type in models and entry.object_id and entry.object_id.isdigit():
            wanted.setdefault(entry.object_type, set()).add(int(entry.object_id))
    found = {}
    for kind, ids in wanted.items():
        model = models[kind]
        column = getattr(model, _NAMING_COLUMNS[kind])
        found[kind] = dict(db.session.execute(select(model.id, column).where(model.id.in_(ids))).all())
    users = found.get("User", {})
    objects = {(kind, str(i)): name for kind, names in found.items() for i, name in names.items() if name}
    return {"users": users, "objects": objects}


#: The chain's starting point: the "previous hash" of entry 1.
GENESIS_HASH = "0" * 64

#: The columns the sealing step fills in; every other column is fixed at insert.
SEAL_COLUMNS = frozenset({"seq", "prev_hash", "hash"})

#: Execution option the archive command sets on its one bulk delete; nothing else may delete entries.
ARCHIVE_OPTION = "gaoxin_audit_archive"


class AuditChain(db.Model):
    """The chain's single head row (id 1): the last sealed entry, the archive anchor, the last check.

    Each pair of values is authenticated by an HMAC (`*_mac`) so that someone who can write to the
    database but does not hold GAOXIN_AUDIT_KEY cannot rewind the head (hiding deleted newest rows),
    move the anchor (hiding deleted oldest rows) or mark a broken chain as checked and intact.
    """

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The last sealed entry: its seq (0 before the first) and hash.
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    mac: Mapped[str] = mapped_column(String(64), default="")
    #: The last archived entry (seq 0 and GENESIS_HASH until the first archive): the remaining chain starts here.
    anchor_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    anchor_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    anchor_mac: Mapped[str] = mapped_column(String(64), default="")
    #: The last full check (flask gaoxin audit-verify or the auditor's button) and what it found.
    verified_at = mapped_column(UTCDateTime)
    verified_ok: Mapped[bool | None] = mapped_column(Boolean)
    verified_count: Mapped[int | None] = mapped_column(BigInteger)
    verified_message: Mapped[str | None] = mapped_column(Text)
    verified_mac: Mapped[str | None] = mapped_column(String(64))


class AuditLogReadOnly(RuntimeError):
    """Raised when code tries to change or delete an audit entry: the log is append-only."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target):
    """Only the sealing step may write, and only the chain columns of a row it is sealing."""
    changed = {attr.key for attr in mapper.column_attrs if db.inspect(target).attrs[attr.key].history.has_changes()}
    if changed and not (changed <= SEAL_COLUMNS and target.__dict__.get("_gaoxin_sealing")):
        raise AuditLogReadOnly(f"audit entry {target.id} is append-only (tried to change {sorted(changed)})")


@event.listens_for(AuditEntry, "after_update")
def _sealed(mapper, connection, target):
    target.__dict__.pop("_gaoxin_sealing", None)


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AuditLogReadOnly(f"audit entry {target.id} cannot be deleted (archive old entries instead)")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    """Bulk UPDATE of audit entries is refused; bulk DELETE only for the archive command."""
    if not (state.is_update or state.is_delete):
        return
    if getattr(getattr(state.statement, "table", None), "name", None) != AuditEntry.__tablename__:
        return
    if state.is_delete and state.execution_options.get(ARCHIVE_OPTION):
        return
    raise AuditLogReadOnly("audit entries are append-only (bulk UPDATE/DELETE refused)")
