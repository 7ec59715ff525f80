"""Static files: names carry the file's content hash, are cached for a year and sent gzipped to a browser that
takes gzip; the site's scripts and styles stay small."""
import gzip
import os
import re
from pathlib import Path

from whitenoise import WhiteNoise

from gaoxin.static_files import IMMUTABLE, StaticFiles

#: The site's own JS and CSS (htmx included) as a browser downloads them, gzipped (issue 9).
BUDGET_GZIP = 40 * 1024


def page_assets(client):
    page = client.get("/login").get_data(as_text=True)
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_static_urls_carry_a_content_hash_and_are_cached_for_a_year(client, app):
    urls = page_assets(client)
    assert urls and all(re.search(r"\.[0-9a-f]{12}\.(css|js)$", url) for url in urls), urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE
        plain = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", url.removeprefix("/static/"))
        assert response.get_data() == (Path(app.static_folder) / plain).read_bytes()
        # The strict policy still travels with every response.
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_browser_that_takes_gzip_gets_the_files_compressed_within_the_budget(client):
    total = 0
    for url in page_assets(client):
        response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert gzip.decompress(response.get_data()) == client.get(url).get_data()
        total += len(response.get_data())
    assert total <= BUDGET_GZIP, f"{total} bytes gzipped"


def test_a_changed_file_gets_a_new_name(tmp_path):
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "x.css").write_text("a{}")
    files = StaticFiles(static, tmp_path / "built", "/static", WhiteNoise(None))
    first = files.hashed("css/x.css")
    (static / "css" / "x.css").write_text("b{color:red}")
    os.utime(static / "css" / "x.css", ns=(1, 1))
    second = files.hashed("css/x.css")
    assert first != second and (tmp_path / "built" / second).read_text() == "b{color:red}"
    assert f"/static/{second}" in files.whitenoise.files and files.hashed("css/missing.css") is None


def test_a_plain_static_name_is_still_served_and_revalidated(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(url)
        assert response.status_code == 200 and "immutable" not in response.headers.get("Cache-Control", "")
