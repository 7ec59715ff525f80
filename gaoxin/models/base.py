"""Shared column helpers: UTC timestamps and string enums stored with a check constraint."""
import enum
from datetime import datetime, timezone

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import validates

from ..extensions import db
# The one base for labelled enums lives with the workflow's states (pure, no Flask or database); the
# models' enums derive from it through this name.
from ..workflow import LabelledEnum, StateEnum  # noqa: F401


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


class EnumString(db.TypeDecorator):
    """A string enum column: VARCHAR in the database, the enum's member in Python (`appeal.state.title`).

    A bound value may be a member or its string; an unknown string passes through unchanged, so that a
    filter on it finds nothing and a write of it is refused by the column's check constraint.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_cls, length=None):
        self.enum_cls = enum_cls
        super().__init__(length or enum_column_type(enum_cls).length)

    def process_bind_param(self, value, dialect):
        return value.value if isinstance(value, enum.Enum) else value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum_cls(value)

    def __repr__(self):
        # Autogenerate writes the column as the plain VARCHAR it is (gaoxin.models.base.String is
        # sqlalchemy's), not as a call that would need the enum class.
        return f"String(length={self.impl.length})"


def coerce_to_enum(*columns):
    """A `validates` hook for EnumString columns: a string assigned to one becomes the enum's member at once,
    so that templates can ask it for `.title` before the row is read back. Unknown strings are kept for the
    check constraint to refuse at flush."""

    @validates(*columns)
    def _coerce(self, key, value):
        if value is None or isinstance(value, enum.Enum):
            return value
        try:
            return self.__table__.c[key].type.enum_cls(value)
        except ValueError:
            return value

    return _coerce


def sql_values(members):
    """The members' values as an SQL list: 'a', 'b' (for check constraints and partial index conditions)."""
    return ", ".join(f"'{m.value}'" for m in members)


def enum_check(column, enum_cls, name, *, nullable=False):
    """A CHECK constraint that allows only the enum's values in `column`; nullable=True spells out
    `IS NULL OR`, the text of the constraints created that way."""
    allowed = f"{column} IN ({sql_values(enum_cls)})"
    return CheckConstraint(f"{column} IS NULL OR {allowed}" if nullable else allowed, name=name)
