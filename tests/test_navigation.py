"""The navigation bar: every entry leads to a page that exists."""
from gaoxin.navigation import NAV_ITEMS


def test_every_navigation_entry_names_a_registered_endpoint(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = [endpoint for _, endpoint, _ in NAV_ITEMS if endpoint not in endpoints]
    assert missing == []
