"""Static files: URLs carry the file's content hash, and a request with the current hash may be cached for a year."""
import re

from gaoxin.static_files import IMMUTABLE


def test_static_urls_carry_a_content_hash_and_are_cached_for_a_year(client):
    page = client.get("/login").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert urls and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in urls), urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE
        # The strict policy still travels with every response.
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_static_url_without_the_current_hash_is_revalidated(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(url)
        assert response.status_code == 200 and "immutable" not in response.headers.get("Cache-Control", "")
