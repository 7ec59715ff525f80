"""The browser tests' safety nets really catch things: a CSP violation, an axe violation, an unchecked page."""
import pytest

from .helpers import allow_console_error, assert_accessible, assert_no_browser_errors, visit, watch_of


def test_an_inline_script_is_blocked_by_the_csp_and_reported(page):
    visit(page, "/login")

    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.inlineRan = true";
        document.body.appendChild(script);
    }""")

    assert page.evaluate("window.inlineRan") is None
    with pytest.raises(AssertionError, match="Content Security Policy"):
        assert_no_browser_errors(page)
    allow_console_error(page, "Content Security Policy")


def test_a_serious_axe_violation_fails_with_its_rule_and_selector(page):
    visit(page, "/login")

    page.evaluate("""() => {
        const img = document.createElement("img");
        img.id = "no-alt"; img.src = "/static/none.png";
        document.querySelector("main").appendChild(img);
    }""")

    with pytest.raises(AssertionError, match=r"image-alt \(critical\).*#no-alt"):
        assert_accessible(page)
    allow_console_error(page, "status of 404")


def test_a_page_loaded_without_a_check_is_noticed(page):
    page.goto("/login")

    assert watch_of(page).unchecked_documents() == [page.url]
    assert_accessible(page)
    assert watch_of(page).unchecked_documents() == []


def test_a_page_without_javascript_is_still_checked_by_axe(open_page):
    # axe-core needs timers, which never fire with JavaScript off; it runs on a twin of the document.
    page = open_page(java_script_enabled=False)
    visit(page, "/login")

    page.evaluate("""() => {
        const img = document.createElement("img");
        img.id = "no-alt"; img.src = "data:,";
        document.querySelector("main").appendChild(img);
    }""")

    with pytest.raises(AssertionError, match=r"image-alt \(critical\).*#no-alt"):
        assert_accessible(page)
