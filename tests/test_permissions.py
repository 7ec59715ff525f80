"""Deny by default, the role × page matrix, 三员分立, and audited refusals."""
import pytest
from sqlalchemy import select

from gaoxin.models import AuditEntry, Role, User
from gaoxin.permissions import ROLE_PERMISSIONS, can

#: Endpoints anyone may reach without logging in. Everything else must send an anonymous visitor to log in.
PUBLIC_ENDPOINTS = {"auth.login", "ops.healthz", "ops.readyz", "ops.metrics_view", "static", "salons.signup",
                    "portal.login", "portal.activate"}
#: The public progress lookup (a later issue) lives in this blueprint: enterprises have no account.
PUBLIC_BLUEPRINTS = {"public"}


def login_page(endpoint):
    """Where an anonymous visitor is sent: the enterprise portal's pages (blueprints portal*) have their own log-in."""
    return "/e/login" if endpoint.startswith("portal") else "/login"


def is_public(endpoint):
    return endpoint in PUBLIC_ENDPOINTS or endpoint.split(".", 1)[0] in PUBLIC_BLUEPRINTS


def _sample_value(converter):
    # 1 fits int, string and path arguments; an any(...) argument takes one of its own items.
    items = getattr(converter, "items", None)
    return sorted(items)[0] if items else 1


def protected_requests(app):
    """(endpoint, method, url) for every rule that is not public, its URL arguments filled with 1."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if is_public(rule.endpoint):
            continue
        values = {arg: _sample_value(rule._converters.get(arg)) for arg in rule.arguments}
        for method in sorted(rule.methods & {"GET", "POST"}):
            yield rule.endpoint, method, adapter.build(rule.endpoint, values, method=method)


def test_every_endpoint_but_the_public_ones_sends_anonymous_visitors_to_log_in(app, client):
    checked, leaks = set(), []
    for endpoint, method, url in protected_requests(app):
        response = client.open(url, method=method)
        if response.status_code != 302 or not response.headers["Location"].startswith(login_page(endpoint)):
            leaks.append(f"{method} {url} ({endpoint}) → {response.status_code}")
        checked.add(endpoint)
    assert not leaks, "endpoints reachable without logging in:\n" + "\n".join(leaks)
    assert {"admin.units", "admin.users", "admin.security", "audit.index", "main.home"} <= checked


def test_every_protected_endpoint_sends_htmx_an_hx_redirect_to_log_in(app, client):
    leaks = []
    for endpoint, method, url in protected_requests(app):
        response = client.open(url, method=method, headers={"HX-Request": "true"})
        if not response.headers.get("HX-Redirect", "").startswith(login_page(endpoint)):
            leaks.append(f"{method} {url} ({endpoint}) → {response.status_code}")
    assert not leaks, "endpoints that do not send htmx to the log-in page:\n" + "\n".join(leaks)


def test_the_public_endpoints_really_are_reachable(client):
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200


ALL_ROLES = list(Role)
#: page → the only roles that may open it; everyone else gets 403.
PAGE_ROLES = {
    "/admin/units": {Role.sysadmin},
    "/admin/units/new": {Role.sysadmin},
    "/admin/users": {Role.sysadmin},
    "/admin/users/new": {Role.sysadmin},
    "/admin/security": {Role.secadmin},
    "/audit": {Role.auditor},
}
MATRIX = [
    (role, path, 200 if role in allowed else 403)
    for path, allowed in PAGE_ROLES.items()
    for role in ALL_ROLES
] + [
    # The registry is for case-working staff (and the sysadmin who imports it); not for the other two admins.
    (Role.clerk, "/enterprises", 200),
    (Role.sysadmin, "/enterprises", 200),
    (Role.secadmin, "/enterprises", 403),
    (Role.auditor, "/enterprises", 403),
]


@pytest.mark.parametrize("role, path, status", MATRIX, ids=[f"{r.value}-{p}-{s}" for r, p, s in MATRIX])
def test_role_page_matrix(client, login_as, role, path, status):
    login_as(role)
    assert client.get(path).status_code == status


@pytest.mark.parametrize("role, path", [
    (Role.sysadmin, "/audit"),
    (Role.sysadmin, "/admin/security"),
    (Role.secadmin, "/admin/units"),
    (Role.secadmin, "/admin/users"),
    (Role.secadmin, "/audit"),
    (Role.auditor, "/admin/units"),
    (Role.auditor, "/admin/users"),
    (Role.auditor, "/admin/security"),
])
def test_the_three_admins_cannot_do_each_others_jobs(client, login_as, role, path):
    login_as(role)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role, method, path", [
    (Role.secadmin, "post", "/admin/units/new"),
    (Role.secadmin, "post", "/admin/users/{target}/disable"),
    (Role.secadmin, "post", "/admin/users/{target}/reset-password"),
    (Role.sysadmin, "post", "/admin/security/users/{target}/unlock"),
    (Role.sysadmin, "post", "/admin/security/users/{target}/roles"),
    (Role.auditor, "post", "/admin/security/users/{target}/roles"),
    (Role.auditor, "post", "/admin/users/{target}/disable"),
    (Role.clerk, "post", "/admin/users/{target}/reset-password"),
])
def test_admin_actions_are_refused_to_the_wrong_admin_and_change_nothing(client, login_as, make_user, db,
                                                                      role, method, path):
    login_as(role)
    target = make_user(Role.clerk)
    response = getattr(client, method)(path.format(target=target.id), data={"name": "x", "kind": "department",
                                                                            "roles": ["sysadmin"]})
    assert response.status_code == 403
    target = db.session.get(User, target.id)
    assert target.active and target.roles == {Role.clerk} and not target.must_change_password


def test_the_auditor_reads_nothing_but_the_audit_log():
    readable = {action for action, roles in ROLE_PERMISSIONS.items() if Role.auditor in roles}
    assert readable == {"audit.view"}
    assert [action for action, roles in ROLE_PERMISSIONS.items() if "audit" in action] == ["audit.view"]
    assert ROLE_PERMISSIONS["audit.view"] == {Role.auditor}


def test_unknown_actions_and_anonymous_users_are_refused(make_user):
    assert not can(make_user(Role.sysadmin), "no.such.action")
    assert not can(None, "audit.view")


def test_access_denied_is_audited_with_who_and_what(client, login_as):
    clerk = login_as(Role.clerk)
    assert client.get("/audit").status_code == 403
    from gaoxin.extensions import db

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "access_denied"))
    assert entry.user_id == clerk.id and entry.username == clerk.username
    assert entry.result == "denied" and entry.detail == "audit.view" and entry.ip == "127.0.0.1"


def test_a_refused_page_is_a_chinese_403(client, login_as):
    login_as(Role.auditor)
    response = client.get("/admin/users")
    assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)


@pytest.mark.parametrize("role, visible", [
    (Role.sysadmin, {"单位", "用户"}),
    (Role.secadmin, {"账号安全"}),
    (Role.auditor, {"审计日志"}),
])
def test_navigation_offers_each_admin_only_their_own_pages(client, login_as, role, visible):
    login_as(role)
    page = client.get("/").get_data(as_text=True)
    nav = page.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    for label in ("单位", "用户", "账号安全", "审计日志"):
        assert (f">{label}</a>" in nav) == (label in visible), label


#: What the auditor may open: the audit log, the home page and their own password.
AUDITOR_PAGES = {"audit.index", "main.home", "auth.change_password"}


def test_the_auditor_opens_no_page_but_the_audit_log(app, client, login_as):
    login_as(Role.auditor)
    opened = []
    for endpoint, method, url in protected_requests(app):
        if method != "GET" or endpoint in AUDITOR_PAGES:
            continue
        response = client.get(url)
        if response.status_code not in (403, 404):
            opened.append(f"{url} ({endpoint}) → {response.status_code}")
    assert not opened, "pages the auditor can open:\n" + "\n".join(opened)
