"""Desktop, tablet and phone: the pages clerks and handlers use all day never scroll sideways, at 1280, 768
and 375 px (list tables scroll inside their own box), and pass axe at each width."""
import pytest

from .helpers import assert_accessible, login

WIDTHS = (1280, 768, 375)
#: (demo user, pages that user works on every day)
PAGES = [
    ("clerk_station", ["/", "/appeals/new", "/appeals/", "/applications/"]),
    ("handler", ["/", "/inbox", "/inbox?tab=replied"]),
    ("window", ["/", "/applications/", "/applications/new"]),
    ("dispatcher", ["/", "/dispatch"]),
]


def sideways_overflow(page):
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username, paths", PAGES, ids=[p[0] for p in PAGES])
def test_daily_pages_do_not_scroll_sideways(open_page, width, username, paths):
    page = open_page(viewport={"width": width, "height": 900})
    login(page, username)
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert sideways_overflow(page) <= 0, f"{path} at {width} px is {sideways_overflow(page)} px too wide"
        assert_accessible(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_an_appeal_page_fits_the_handlers_screen(open_page, width, live_app):
    from sqlalchemy import select

    from gaoxin.extensions import db
    from gaoxin.models import Appeal, Unit

    with live_app.app_context():
        dept = db.session.scalar(select(Unit).where(Unit.name == "科技人才局"))
        appeal_id = db.session.scalar(select(Appeal.id).where(Appeal.lead_unit_id == dept.id).order_by(Appeal.id))
    page = open_page(viewport={"width": width, "height": 900})
    login(page, "handler")
    page.goto(f"/appeals/{appeal_id}")
    assert sideways_overflow(page) <= 0, f"the appeal page at {width} px is {sideways_overflow(page)} px too wide"
    assert_accessible(page)
