"""Browser tests: Playwright drives Debian's Chromium against a live server with real forms, CSRF and CSP.

Fixtures
  live_app            session: the app on its own SQLite file (never the unit tests' database), with
                      the demo units and users, 300 demo enterprises and the demo
                      appeal categories (with routing), today's salon and cases; CSRF enabled.
  live_url            session: "http://127.0.0.1:<port>", served by werkzeug in a daemon thread.
  browser             session: Chromium (/usr/bin/chromium, or $GAOXIN_CHROMIUM). Missing: skipped,
                      or a failure when CI=true.
  context, page       per test: a fresh context (no cookies; locale zh-CN; base_url = live_url, so
                      `page.goto("/login")`), 10 s default timeout. The page is watched: a console
                      error, an uncaught exception, a 5xx response, or a loaded page that was never
                      checked with assert_accessible fails the test.
  open_page           per test: open_page(**context_options) → a watched page in another fresh context
                      (a second user at another desk; java_script_enabled=False for a browser without
                      scripts), checked like `page` after the test.
  open_page_at        per test: open_page_at(base_url, **context_options) → the same on a server the test
                      started itself (test_nginx_two_servers.py: nginx in front of two gunicorns).
  make_live_user      per test: make_live_user(role=Role.clerk, unit_name=None, **fields) → an object
                      with username, password, name, unit_name; for tests that change a user's state
                      (failed log-ins, password) and so must not use a shared demo account.

Helpers (tests/browser/helpers.py)
  visit(page, path, status=200)       goto + status check + assert_accessible
  submit(page, locator)               click what loads a new page, wait, assert_accessible
  login(page, username, password=DEMO_PASSWORD) / submit_login(...) / logout(page)
  assert_accessible(page, context=None)   axe-core; fails on serious/critical violations and on
                                          console errors so far
  allow_console_error(page, pattern)  expect a console error (e.g. r"status of 409" from htmx)

Call assert_accessible after every htmx swap worth checking too (visit/submit cover page loads).

The app's state lasts for the whole session and tests may run in any order: a test creates its own
uniquely named data (make_live_user, names with a counter) or only reads the demo data. Demo
usernames are in gaoxin.services.demo.DEMO_USERS, all with DEMO_PASSWORD.

    from tests.browser.helpers import login, visit

    def test_handler_sees_home(page):
        login(page, "handler")
        visit(page, "/")
"""
import functools
import itertools
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from gaoxin import create_app
from gaoxin.extensions import db, limiter
from gaoxin.models import Role, Unit, User
from gaoxin.services import demo
from gaoxin.services.enterprises import load_demo_enterprises

from . import helpers, nu

BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
#: Milliseconds Playwright waits for an element or a navigation before failing.
TIMEOUT_MS = 10_000
DEMO_ENTERPRISES = 300
_counter = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    """Mark the tests under tests/browser (this hook sees every collected item, so filter by path)."""
    for item in items:
        if BROWSER_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so the `page` fixture knows whether the test body failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _unavailable(reason):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true requires the browser tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def nu_checker():
    """The Nu HTML Checker must be able to run (Java and vnu.jar): a skip outside CI, a failure in CI."""
    why = nu.unavailable()
    if why:
        _unavailable(why)


def pytest_sessionfinish(session, exitstatus):
    """Check every document the browser tests saw with the Nu HTML Checker; an error fails the run."""
    if not nu.documents or nu.unavailable():
        return
    errors = nu.check_all()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if errors:
        reporter.write_line(f"Nu HTML Checker: {len(errors)} error(s) in {len(nu.documents)} documents:", red=True)
        for line in errors:
            reporter.write_line("  " + line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        reporter.write_line(f"Nu HTML Checker: {len(nu.documents)} documents, no error.")


@pytest.fixture(scope="session")
def chromium_path():
    path = os.environ.get("GAOXIN_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(path):
        _unavailable(f"Debian chromium not installed at {path}: apt-get install chromium fonts-noto-cjk")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed in .venv: pip install -r requirements.txt")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


class _QuietHandler(WSGIRequestHandler):
    """Log only server errors; every request line would bury a failure's own output."""

    def log_request(self, code="-", size="-"):
        if str(code).startswith("5"):
            super().log_request(code, size)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    app = create_app({
        "SECRET_KEY": "browser-tests",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'browser.sqlite'}",
        "GAOXIN_DATA_DIR": str(folder / "files"),
        "GAOXIN_PASSWORD_METHOD": "scrypt:1024:8:1",
        "RATELIMIT_STORAGE_URI": "memory://",
        # Real forms in a real browser: CSRF stays on, cookies work over plain http.
        "WTF_CSRF_ENABLED": True,
        "SESSION_COOKIE_SECURE": False,
        "GAOXIN_IDLE_MINUTES": 30,
        # Background jobs run inside the request that queues them (the worker process has its own test).
        "GAOXIN_JOBS_URL": "immediate",
    })
    with app.app_context():
        db.create_all()
        demo.create_units()
        demo.create_users()
        db.session.commit()
        load_demo_enterprises(DEMO_ENTERPRISES)
        db.session.commit()
        demo.create_demo_cases()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_url(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _new_context(browser, live_url, **options):
    context = browser.new_context(base_url=live_url, locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


def _after_test_problems(page_watch, request):
    """What a watched page did wrong, or [] when the test body failed anyway (its failure says enough)."""
    call = getattr(request.node, "report_call", None)
    if call is not None and call.failed:
        return []
    problems = page_watch.problems()
    unchecked = page_watch.unchecked_documents()
    if unchecked:
        problems.append("pages never checked with assert_accessible (use visit/submit): " + ", ".join(unchecked))
    return problems


@pytest.fixture
def context(browser, live_url):
    # Rate limits are per client address, and every test comes from 127.0.0.1: start each test afresh,
    # as the unit tests do (the limiter is one object shared by every app in the process).
    limiter.reset()
    context = _new_context(browser, live_url)
    yield context
    context.close()


@pytest.fixture
def page(context, request):
    page = context.new_page()
    page_watch = helpers.watch(page)
    yield page
    helpers.unwatch(page)
    problems = _after_test_problems(page_watch, request)
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def open_page_at(browser, request):
    """open_page_at(base_url, **context_options) → a watched page in a new context of its own on the server at
    `base_url` (tests that start their own servers), checked like `page` after the test."""
    limiter.reset()
    opened = []

    def open_(base_url, **options):
        context = _new_context(browser, base_url, **options)
        page = context.new_page()
        opened.append((context, page, helpers.watch(page, javascript=options.get("java_script_enabled", True))))
        return page

    yield open_
    problems = []
    for number, (context, page, page_watch) in enumerate(opened, start=1):
        helpers.unwatch(page)
        problems += [f"[page {number}] {line}" for line in _after_test_problems(page_watch, request)]
        context.close()
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def open_page(open_page_at, live_url):
    """open_page(**context_options) → a watched page in another fresh context (another user, another desk)."""
    return functools.partial(open_page_at, live_url)


@pytest.fixture
def make_live_user(live_app):
    """make_live_user(role=Role.clerk, unit_name=None, **fields) → SimpleNamespace(username, password, name, unit_name)."""
    default_unit = {}
    for _, _, unit_name, roles in demo.DEMO_USERS:
        default_unit.setdefault(roles[0], unit_name)

    def make(role=Role.clerk, unit_name=None, *, name="测试用户", password=helpers.DEMO_PASSWORD,
             roles=None, must_change_password=False, **fields):
        role = Role(role)
        unit_name = unit_name or default_unit[role]
        username = f"bt_{role.value}_{next(_counter)}"
        with live_app.app_context():
            unit = db.session.scalar(select(Unit).where(Unit.name == unit_name))
            user = User(username=username, name=name, unit=unit, must_change_password=must_change_password, **fields)
            user.set_password(password)
            user.set_roles(roles or [role])
            db.session.add(user)
            db.session.commit()
            user_id = user.id
        return SimpleNamespace(id=user_id, username=username, password=password, name=name, unit_name=unit_name)
    return make
