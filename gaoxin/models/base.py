"""Shared column helpers: UTC timestamps and string enums stored with a check constraint."""
import enum
from datetime import datetime, timezone

from sqlalchemy import CheckConstraint, String

from ..extensions import db


def utcnow():
    """Now, in UTC, timezone-aware."""
    return datetime.now(timezone.utc)


class UTCDateTime(db.TypeDecorator):
    """A timestamp stored as naive UTC (SQLite has no time zones) and read back as aware UTC."""

    impl = db.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def enum_column_type(enum_cls):
    """A VARCHAR wide enough for the enum's values (the check constraint keeps it honest)."""
    return String(max(len(m.value) for m in enum_cls))


def enum_check(column, enum_cls, name):
    """A CHECK constraint that allows only the enum's values in `column`."""
    values = ", ".join(f"'{m.value}'" for m in enum_cls)
    return CheckConstraint(f"{column} IN ({values})", name=name)


class LabelledEnum(str, enum.Enum):
    """A string enum whose members carry a Chinese title from the subclass's LABELS mapping."""

    @property
    def title(self):
        return self._labels()[self.value]

    @classmethod
    def _labels(cls):
        return cls.__dict__["_LABELS"] if "_LABELS" in cls.__dict__ else {}

    @classmethod
    def choices(cls):
        return [(m.value, m.title) for m in cls]

    def __str__(self):
        return self.value
