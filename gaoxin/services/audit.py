"""Writing audit entries: every security-relevant action goes through record()."""
from flask import has_request_context, request
from flask_login import current_user

from ..extensions import db
from ..models import AuditEntry


def client_ip():
    """The client's address (ProxyFix has already applied the trusted X-Forwarded-For)."""
    return request.remote_addr if has_request_context() else None


def record(action, obj=None, *, result="ok", detail=None, user=None, username=None):
    """Add an audit entry for `action` on `obj` by `user` (default: the current user)."""
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    entry = AuditEntry(
        user_id=user.id if user is not None else None,
        username=username or (user.username if user is not None else None),
        ip=client_ip(),
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None and getattr(obj, "id", None) is not None else None,
        result=result,
        detail=detail,
    )
    db.session.add(entry)
    return entry
