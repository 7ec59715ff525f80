"""The enterprise registry (一企一档): enterprises, their buildings, contacts, search grams and imports."""
from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import EnumString, LabelledEnum, StateEnum, UTCDateTime, coerce_to_enum, enum_check, enum_column_type, utcnow


class EnterpriseSize(LabelledEnum):
    """Enterprise size (企业规模) as the registry records it."""

    large = "large"
    medium = "medium"
    small = "small"
    micro = "micro"

    __titles__ = {large: "大型", medium: "中型", small: "小型", micro: "微型"}


class Building(db.Model):
    """An office building served by a building station (楼宇企业服务站)."""

    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    address: Mapped[str | None] = mapped_column(String(200))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)

    station = relationship("Unit", lazy="joined")


class Enterprise(db.Model):
    __tablename__ = "enterprises"
    __table_args__ = (enum_check("size", EnterpriseSize, "size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 统一社会信用代码 (GB 32100-2015), normalised: 18 upper-case characters.
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    #: Simplified, lower-case, no spaces: what name searches match against.
    name_key: Mapped[str] = mapped_column(String(100))
    #: Pinyin initials of the name (迈普通信 → mptx), for typing `mptx`.
    initials: Mapped[str] = mapped_column(String(100))
    legal_rep: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(200))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), index=True)
    #: GB/T 4754-2017 section letter (A–T).
    industry: Mapped[str | None] = mapped_column(String(1))
    size: Mapped[str | None] = mapped_column(enum_column_type(EnterpriseSize))
    #: 登记状态 as the registry writes it (存续, 在业, 注销, 吊销，未注销 …).
    status: Mapped[str | None] = mapped_column(String(30))
    #: 成立日期.
    founded_on = mapped_column(Date, nullable=True)
    #: 经营范围, the registry's long text.
    business_scope: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(default=1)

    building = relationship("Building", lazy="joined")
    #: The contacts on file now: the ones offered at intake. A removed or superseded contact drops out of
    #: this list but stays in the table, so a case keeps the contact it was recorded with.
    contacts = relationship(
        "Contact", back_populates="enterprise", lazy="selectin", order_by="Contact.id",
        primaryjoin="and_(Enterprise.id == Contact.enterprise_id, Contact.removed_at.is_(None))",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def size_title(self):
        return EnterpriseSize(self.size).title if self.size else ""

    @property
    def is_terminated(self):
        """注销 or 吊销 (or 撤销) in the registry: the enterprise no longer exists as an ordinary one."""
        return is_terminated_status(self.status)


#: Words of a 登记状态 meaning the enterprise was deregistered, had its licence revoked or its registration cancelled.
TERMINATED_STATUS_WORDS = ("注销", "吊销", "撤销")


def is_terminated_status(status):
    """Whether a 登记状态 text says 注销, 吊销 or 撤销."""
    return bool(status) and any(word in status for word in TERMINATED_STATUS_WORDS)


class Contact(db.Model):
    """A person at an enterprise; the mobile number is personal information, masked in lists.

    A row is never rewritten: staff editing a contact retire the row (`removed_at`, `replaced_by_id`) and
    add the corrected one, so every case still names the contact as it was when the case was recorded.
    """

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    mobile: Mapped[str | None] = mapped_column(String(11))
    title: Mapped[str | None] = mapped_column(String(40))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: Removed by staff, or superseded by an edit: no longer offered at intake, still named by old cases.
    removed_at = mapped_column(UTCDateTime, nullable=True)
    #: The row an edit replaced this one with (None for a plain removal).
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    enterprise = relationship("Enterprise", back_populates="contacts", lazy="raise_on_sql")

    @property
    def is_removed(self):
        return self.removed_at is not None


class EnterpriseGram(db.Model):
    """One n-gram of an enterprise's name key or initials: an index that also finds 2-character fragments."""

    __tablename__ = "enterprise_grams"
    __table_args__ = {"sqlite_with_rowid": False}

    gram: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: No foreign key: a derived index, written only by services.enterprises.write_grams for ids it has just
    #: inserted or read, and searches join it to enterprises. The key's per-row check (on PostgreSQL a
    #: FOR KEY SHARE lock on the enterprise) was two thirds of importing a full registry's 5 million grams.
    enterprise_id: Mapped[int] = mapped_column(primary_key=True, index=True)


class ImportStatus(StateEnum):
    """Where an import job is: pending → running → done, or refused (file-level), or failed."""

    pending = "pending"
    running = "running"
    done = "done"
    refused = "refused"
    failed = "failed"

    __titles__ = {pending: "排队中", running: "导入中", done: "已完成", refused: "文件被拒绝", failed: "已中断"}
    __final__ = frozenset({done, refused, failed})


#: Import job states and their Chinese names (derived from ImportStatus; prefer `status.title`).
IMPORT_STATUS_LABELS = {s.value: s.title for s in ImportStatus}


class ImportJob(db.Model):
    """One registry import: its progress while it runs and its per-row report afterwards."""

    __tablename__ = "import_jobs"
    __table_args__ = (enum_check("status", ImportStatus, "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[ImportStatus] = mapped_column(EnumString(ImportStatus, length=10), default=ImportStatus.pending)
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    refused_count: Mapped[int] = mapped_column(default=0)
    #: A file-level problem (not a spreadsheet, a missing column), in Chinese.
    message: Mapped[str | None] = mapped_column(Text)
    #: JSON list of [row, column, reason] for every refused row.
    report: Mapped[str | None] = mapped_column(Text)
    #: Header cells of columns the importer does not use, joined by "、" (named in the report, not dropped in silence).
    unused_columns: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: Touched by every batch commit: a running job not touched for long lost its process.
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    finished_at = mapped_column(UTCDateTime, nullable=True)

    _coerce_enums = coerce_to_enum("status")

    user = relationship("User", lazy="joined")

    @property
    def status_title(self):
        return IMPORT_STATUS_LABELS.get(self.status, self.status)

    @property
    def is_running(self):
        return ImportStatus(self.status).is_open

    @property
    def percent(self):
        """Progress in whole percent (0 while the row count is unknown)."""
        if not self.total_rows:
            return 100 if self.status == ImportStatus.done else 0
        return min(100, self.processed_rows * 100 // self.total_rows)


Index("ix_enterprises_name", Enterprise.name)
