"""Error pages in Chinese, never a stack trace; htmx gets a small fragment it can show."""
import time

from flask import current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from .database import commit_if_read_only
from .extensions import db
from .logs import exception as log_exception, request_id
from .permissions import Denied, NotVisible
from .portal_auth import is_enterprise
from .services import audit

ERROR_TEXTS = {
    400: ("请求有误", "提交的内容无法处理，请返回上一页检查后重试。"),
    403: ("无权访问", "您的账号没有执行此操作的权限。如有疑问，请联系系统管理员。"),
    404: ("页面不存在", "您访问的页面或记录不存在，或您无权查看。"),
    405: ("请求方式不正确", "请通过页面上的按钮或链接操作。"),
    409: ("操作冲突", "该记录已被他人更改，请刷新后重试。"),
    413: ("文件过大", "上传的内容超过大小限制。"),
    429: ("操作过于频繁", "请求次数过多，请稍后再试。"),
    500: ("系统错误", "系统出现错误，已记录。请稍后重试，或联系系统管理员。"),
    503: ("系统暂时无法使用", "数据库暂时无法访问，本次操作没有保存。请稍候片刻后重试（浏览器“返回”可找回已填写的内容）；"
                       "如持续出现，请联系系统管理员。"),
}
#: SQLite's OperationalErrors that mean "busy or unreachable, try again" (others, such as "no such table", are bugs).
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error", "database is full")
#: Seconds a browser is asked to wait before retrying after a 503.
RETRY_AFTER = 5
#: When the last "database unavailable" line was logged: one line per outage-second, not one per request.
_last_logged = [0.0]


def init_app(app):
    app.register_error_handler(Denied, _denied)
    app.register_error_handler(NotVisible, _denied)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    for error in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(error, _database_error)
    # Registered after Flask-SQLAlchemy's, so it runs first (teardowns run last-registered first).
    app.teardown_appcontext(_release_session)
    app.register_error_handler(Exception, _unexpected)


def render_error(code, message=None):
    title, text = ERROR_TEXTS.get(code, ERROR_TEXTS[500] if code >= 500 else ERROR_TEXTS[400])
    template = "errors/fragment.html" if request.headers.get("HX-Request") == "true" else "errors/error.html"
    # The portal's own frame on its pages and for enterprise accounts: never the staff header, nor a link into it.
    portal = (request.blueprint or "").startswith("portal") or is_enterprise(current_user)
    return render_template(template, code=code, title=title, text=message or text, request_id=request_id(),
                           frame="portal/base.html" if portal else "base.html"), code


def _denied(exc):
    """A refused action or an attempt on another unit's case: roll back what the request had pending,
    then write the refusal down on its own (越权尝试 are always audited)."""
    db.session.rollback()
    audit.record("access_denied", result="denied", detail=exc.action, object_type=exc.object_type,
                 object_id=exc.object_id)
    db.session.commit()
    return _http_error(exc)


def _csrf_error(exc):
    return render_error(400, "页面已过期或表单校验失败，请刷新页面后重新提交。")


def _too_large_message():
    """The 413 text naming the limit that applied to this request (the import page has its own)."""
    limit = request.max_content_length
    if not limit:
        return None
    size = f"{limit / 1024 / 1024:g} MB"
    if request.endpoint == "enterprises.import_form":
        return f"上传的文件超过大小限制：企业名录导入文件不超过{size}。"
    return f"上传的内容超过大小限制：每次提交的文件合计不超过{size}（附件每个不超过20 MB）。"


def _http_error(exc):
    message = getattr(exc, "gaoxin_message", None) or (_too_large_message() if exc.code == 413 else None)
    response = render_error(exc.code or 500, message)
    if exc.code == 429:
        return response[0], 429, {"Retry-After": "60"}
    return response


def _unexpected(exc):
    db.session.rollback()
    log_exception()
    return render_error(500)


def database_unavailable(exc):
    """Whether `exc` means the database cannot be reached or is busy right now (a 503), not a bug (a 500)."""
    if isinstance(exc, (InterfaceError, PoolTimeout)):
        return True
    if isinstance(exc, OperationalError):
        dialect = getattr(exc.orig, "__module__", "")
        if dialect.startswith("sqlite3"):
            return str(exc.orig).lower().startswith(SQLITE_UNAVAILABLE)
        # psycopg's OperationalError: connection lost, server shutting down or starting, statement or lock
        # timeout (QueryCanceled and LockNotAvailable are its subclasses).
        return True
    return False


def _database_error(exc):
    """The database is down, restarting or busy: a Chinese 503 that needs no database to render (the
    page's usual header asks the database who is logged in), and the request's work rolled back."""
    if not database_unavailable(exc):
        return _unexpected(exc)
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is already gone; the pool renews it
        pass
    now = time.monotonic()
    if now - _last_logged[0] > 1:
        _last_logged[0] = now
        current_app.logger.warning("Database unavailable (503): %s", str(getattr(exc, "orig", exc)).strip())
    title, text = ERROR_TEXTS[503]
    name = "errors/fragment.html" if request.headers.get("HX-Request") == "true" else "errors/unavailable.html"
    # Rendered from the environment, not render_template: the context processors read current_user.
    body = current_app.jinja_env.get_template(name).render(
        code=503, title=title, text=text, path=request.path, site_name=current_app.config["GAOXIN_SITE_NAME"],
        request_id=request_id())
    return body, 503, {"Retry-After": str(RETRY_AFTER), "Content-Type": "text/html; charset=utf-8"}


def _release_session(exc):
    """End the request's session; a database that went away during the request makes the ROLLBACK fail, and
    that must not turn the answer already made (the page or the 503) into a bare 500 from the server."""
    try:
        if exc is None:
            commit_if_read_only()
        db.session.remove()
    except (OperationalError, InterfaceError):
        # SQLAlchemy has invalidated the dead connection; forget the session that held it.
        db.session.registry.clear()
