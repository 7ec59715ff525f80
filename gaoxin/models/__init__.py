"""All models, imported here so that Alembic and the app see every table."""
from .audit import AUDIT_ACTION_LABELS, AuditEntry  # noqa: F401
from .base import utcnow  # noqa: F401
from .enterprise import (  # noqa: F401
    Building, Contact, Enterprise, EnterpriseGram, EnterpriseSize, ImportJob, ImportStatus,
)
from .org import ADMIN_ROLES, Role, Unit, UnitKind, UsedPassword, User, UserRole, UserSession  # noqa: F401
from .appeal import (  # noqa: F401
    Appeal, AppealCategory, AppealCoHandler, Channel, Extension, ExtensionStatus, ReplyOutcome,
    Salon, Satisfaction,
)
from .attachment import Attachment  # noqa: F401
from .calendar import CalendarNoticeDay, CalendarOverride, CalendarYear  # noqa: F401
from .event import Event  # noqa: F401
from .phrases import Phrase  # noqa: F401
from .work import WorkStamp  # noqa: F401
from .rollup import AppealRollup  # noqa: F401
from .policy import Application, ApplicationItem, ItemCheck, Policy, PolicyItem, PolicyLevel, SupplementNotice  # noqa: F401
from .job import DepartmentNotice, Job  # noqa: F401
from .portal import ActivationCode, EnterpriseAccount, EnterpriseSession  # noqa: F401
from .message import MessageKind, PortalMessage  # noqa: F401
