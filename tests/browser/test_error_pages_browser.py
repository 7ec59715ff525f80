"""An error page a clerk can quote: the request id on the page is the one in the response header (and so in
the log line), the page passes axe and fits a phone."""
from .helpers import allow_console_error, login, visit
from .test_small_screens import sideways_overflow


def test_a_missing_case_shows_the_request_id_that_the_log_line_carries(open_page):
    page = open_page(viewport={"width": 375, "height": 800})
    login(page, "clerk_station")
    allow_console_error(page, r"status of 404")
    response = visit(page, "/appeals/987654321", status=404)

    request_id = response.headers["x-request-id"]
    assert page.locator(".request-id").inner_text() == request_id
    assert "联系系统管理员时请告知此编号" in page.locator(".error-page").inner_text()
    assert sideways_overflow(page) <= 0
