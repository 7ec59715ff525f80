"""The navigation bar: one entry per area, shown to whoever may use it."""
from flask import url_for
from flask_login import current_user

from .permissions import can

#: (label, endpoint, action that must be allowed); every endpoint exists (tests/test_navigation.py).
NAV_ITEMS = [
    ("首页", "main.home", None),
    ("企业档案", "enterprises.index", "enterprise.view"),
    ("诉求登记", "appeals.new", "appeal.create"),
    ("诉求", "appeals.index", "appeal.list"),
    ("调度中心", "dispatch.index", "appeal.dispatch"),
    ("部门收件箱", "inbox.index", "inbox.view"),
    ("常用语", "settings.phrases_index", "phrase.manage"),
    ("政策申报", "applications.index", "application.list"),
    ("政策目录", "policies.index", "policy.view"),
    ("高新沙龙", "salons.index", "salon.view"),
    ("数据看板", "dashboard.index", "figures.view"),
    ("诉求类别", "settings.categories", "settings.manage"),
    ("工作日", "settings.calendar", "settings.manage"),
    ("单位", "admin.units", "unit.manage"),
    ("用户", "admin.users", "user.manage"),
    ("账号安全", "admin.security", "user.roles"),
    ("企业导入", "enterprises.import_form", "enterprise.import"),
    ("后台任务", "jobs.index", "jobs.manage"),
    ("审计日志", "audit.index", "audit.view"),
]


def nav_items(path):
    """The entries the current user may see, each (label, url, is_active); the entry whose URL is the
    longest prefix of the current path is the active one (/admin/users/5/edit → 用户)."""
    items = [(label, url_for(endpoint)) for label, endpoint, action in NAV_ITEMS
             if not action or can(current_user, action)]
    matches = [url for _, url in items if url != "/" and (path == url or path.startswith(url.rstrip("/") + "/"))]
    active = max(matches, key=len) if matches else ("/" if path == "/" else None)
    return [(label, url, url == active) for label, url in items]
