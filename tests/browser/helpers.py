"""Browser-test helpers: visit a page, log in and out, and check each page with axe-core and the console.

Every function takes the Playwright `page` from the `page` fixture (tests/browser/conftest.py), whose
context has `base_url` set to the live server, so paths are written as "/login".
"""
import os
import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from gaoxin.services.demo import DEMO_PASSWORD

from . import nu

#: axe-core impacts that fail a test; "minor" and "moderate" ones are left to review.
FAILING_IMPACTS = ("serious", "critical")
#: At most this many offending elements are listed per violated rule.
TARGETS_SHOWN = 5

_axe = Axe()
_watches = {}


class PageWatch:
    """What one page has shown: console errors, uncaught exceptions, 5xx responses, and documents axe has checked.

    Chromium logs "Failed to load resource: … status of 401" for a top-level document with an error
    status; those are not counted here, because the test states the status it expects (a wrong
    password is a 401 page by design). A subresource or htmx request that fails is counted, and so is
    a CSP violation ("Refused to …" / "Executing inline script violates …"), which is the point.
    """

    def __init__(self, page, javascript=True):
        self.page = page
        self.javascript = javascript
        self.twin = None  # where axe checks this page's documents when JavaScript is off
        self.console_errors = []  # (text, url of the source)
        self.page_errors = []
        self.server_errors = []
        self.error_documents = set()
        self.documents = []  # [url, checked by axe]
        self.allowed = []
        self.last_document = None  # the main frame's latest document response, for the Nu HTML Checker
        self.validated = set()
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("response", self._on_response)
        page.on("load", lambda p: self.documents.append([p.url, False]))

    def _on_console(self, message):
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url", "")))

    def _on_response(self, response):
        if response.request.resource_type == "document" and response.frame == self.page.main_frame:
            self.last_document = response
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")
        elif (
            response.status >= 400
            and response.request.resource_type == "document"
            and response.frame == self.page.main_frame
        ):
            self.error_documents.add(response.url)

    def _expected(self, text, url):
        if any(re.search(pattern, text) for pattern in self.allowed):
            return True
        if text.startswith("Failed to load resource: the server responded with a status of"):
            if url in self.error_documents:
                return True
            # Chromium asks for /favicon.ico on its own; base.html links no icon yet (reported to the lead).
            if url.endswith("/favicon.ico"):
                return True
        return False

    def problems(self):
        """Everything the page did wrong so far, as lines for a failure message."""
        lines = [f"console error: {text}" + (f" [{url}]" if url else "")
                 for text, url in self.console_errors if not self._expected(text, url)]
        lines += [f"uncaught exception: {error}" for error in self.page_errors]
        lines += [f"server error: {line}" for line in self.server_errors]
        return lines

    def unchecked_documents(self):
        return [url for url, checked in self.documents if not checked]

    def mark_checked(self):
        if self.documents:
            self.documents[-1][1] = True


def watch(page, javascript=True):
    """Start watching `page` (the `page` fixture does this); returns its PageWatch. Pass
    javascript=False for a page whose context has JavaScript off, so that axe runs on a twin."""
    _watches[page] = PageWatch(page, javascript)
    return _watches[page]


def unwatch(page):
    """Stop watching `page`; returns its PageWatch."""
    page_watch = _watches.pop(page, None)
    if page_watch is not None and page_watch.twin is not None:
        page_watch.twin.context.close()
        page_watch.twin = None
    return page_watch


def watch_of(page):
    """The PageWatch of a watched page: console_errors, page_errors, server_errors, documents."""
    return _watches[page]


def allow_console_error(page, pattern):
    """Let console errors matching the regex `pattern` pass, e.g. r"status of 409" for a refused htmx action."""
    _watches[page].allowed.append(pattern)


def assert_no_browser_errors(page):
    """Fail if the page logged a console error, threw an uncaught exception or got a 5xx response."""
    __tracebackhide__ = True
    page_watch = _watches.get(page)
    problems = page_watch.problems() if page_watch else []
    assert not problems, f"the browser reported problems on {page.url}:\n  " + "\n  ".join(problems)


def assert_accessible(page, context=None):
    """Run axe-core on the current page (or the `context` selector) and fail on serious or critical violations.

    The strict CSP (script-src 'self') does not stop this: Playwright evaluates the axe script through
    the DevTools protocol, which CSP does not govern, so contexts need no `bypass_csp`. Also fails on
    browser errors seen so far, and marks the current document as checked. A page with JavaScript off
    (open_page(java_script_enabled=False)) is checked on a twin of its document, see _axe_on_twin.
    """
    __tracebackhide__ = True
    page_watch = _watches.get(page)
    results = _axe.run(page, context=context) if page_watch is None or page_watch.javascript else _axe_on_twin(page, context)
    violations = [v for v in results.response["violations"] if v.get("impact") in FAILING_IMPACTS]
    if page_watch:
        page_watch.mark_checked()
        keep_for_html_check(page_watch)
    if violations:
        lines = []
        for v in violations:
            targets = [" ".join(node["target"]) for node in v["nodes"]]
            shown = ", ".join(targets[:TARGETS_SHOWN]) + (f" (+{len(targets) - TARGETS_SHOWN} more)" if len(targets) > TARGETS_SHOWN else "")
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {shown}\n      e.g. {v['nodes'][0]['html'][:200]}")
        raise AssertionError(f"axe-core: {len(violations)} serious/critical violation(s) on {page.url}:\n  " + "\n  ".join(lines))
    assert_no_browser_errors(page)


def keep_for_html_check(page_watch):
    """Keep the document the server sent for the current page for the Nu HTML Checker, which checks every
    kept document in one run at the end of the session (see nu.py and conftest.pytest_sessionfinish)."""
    response = page_watch.last_document
    if response is None or response in page_watch.validated:
        return
    page_watch.validated.add(response)
    if "text/html" in (response.headers.get("content-type") or ""):
        nu.keep(os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0], response.url, response.text())


def _axe_on_twin(page, context=None):
    """axe-core waits on timers, which never fire where JavaScript is off: run it on a twin page that
    shows the same document (same URL, so the stylesheets load) with JavaScript on but the page's own
    scripts blocked, so the DOM is what the user without JavaScript has."""
    page_watch = _watches[page]
    if page_watch.twin is None:
        page_watch.twin = page.context.browser.new_context(locale="zh-CN", viewport=page.viewport_size).new_page()
    twin = page_watch.twin
    html, url = page.content(), page.url

    def serve(route):
        request = route.request
        if request.resource_type == "document" and request.url == url:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif request.resource_type == "script":
            route.abort()
        else:
            route.continue_()

    twin.unroute_all()
    twin.route("**/*", serve)
    twin.goto(url)
    return _axe.run(twin, context=context)


def visit(page, path, status=200):
    """Go to `path`, check the final status (after redirects), accessibility and the console; returns the Response.

    For HTML pages; read JSON or file downloads with `page.request.get(path)` instead.
    """
    __tracebackhide__ = True
    response = page.goto(path)
    assert response is not None, f"no response for {path}"
    assert response.status == status, f"GET {path} → {response.url}: status {response.status}, expected {status}"
    assert_accessible(page)
    return response


def submit(page, locator):
    """Click a submit button (or link) that loads a new page, wait for it and check it; returns the Response."""
    __tracebackhide__ = True
    with page.expect_navigation() as navigation:
        locator.click()
    assert_accessible(page)
    return navigation.value


def submit_login(page, username, password=DEMO_PASSWORD):
    """Fill the real log-in form (with its CSRF token) and submit it; success is not asserted."""
    __tracebackhide__ = True
    visit(page, "/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    return submit(page, page.get_by_role("button", name="登录", exact=True))


def login(page, username, password=DEMO_PASSWORD):
    """Log in through the form and assert it worked (the 退出 button is there); returns the Response."""
    __tracebackhide__ = True
    response = submit_login(page, username, password)
    alert = page.locator(".form-alert")
    assert alert.count() == 0, f"log-in as {username} refused: {alert.first.inner_text()}"
    expect(page.get_by_role("button", name="退出", exact=True)).to_be_visible()
    return response


def logout(page):
    """Press 退出 in the header; lands on the log-in page (checked)."""
    __tracebackhide__ = True
    return submit(page, page.get_by_role("button", name="退出", exact=True))
