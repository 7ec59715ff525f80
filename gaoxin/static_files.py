"""Static files under names that carry their content hash (css/app.3f2a9c0b1d4e.css), served by WhiteNoise
before the app with gzip when the browser takes it, and cached for a year: a browser never revalidates on
navigation, and a changed file gets a new name.

At start (and when a file's modification time moves, an edit while the server runs) each file is copied to
`<instance>/static-built/` under its hashed name beside a gzipped copy (`.gz`, which WhiteNoise sends to a
browser that accepts gzip); WhiteNoise
answers those URLs without entering Flask. The plain names (/static/css/app.css) are still served by Flask's
static route and revalidated, for anything that asks for them."""
import gzip
import hashlib
import os
import re
import tempfile
from pathlib import Path

from whitenoise import WhiteNoise

#: What WhiteNoise sends for a hashed name: a year, never revalidated (the name changes with the content).
IMMUTABLE = f"max-age={WhiteNoise.FOREVER}, public, immutable"
#: A hashed name: the stem, 12 hex digits of the content's hash, the extension.
HASHED = re.compile(r"\.[0-9a-f]{12}(\.[^./]+)$")


def _hashed_name(filename, digest):
    stem, dot, suffix = filename.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{filename}.{digest}"


def _write_atomically(path, data):
    # Several workers start at once and may build the same file: each writes its own temporary file and
    # renames it into place, so no one ever reads half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


class StaticFiles:
    """The hashed names of one app's static files, built on first use and handed to its WhiteNoise."""

    def __init__(self, source, built, prefix, whitenoise):
        self.source, self.built, self.prefix, self.whitenoise = Path(source), Path(built), prefix, whitenoise
        self._names = {}  # filename → (mtime, hashed name)

    def hashed(self, filename):
        """The file's hashed name (building it if its content changed), or None when there is no such file."""
        path = self.source / filename
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        known = self._names.get(filename)
        if known is None or known[0] != mtime:
            data = path.read_bytes()
            name = _hashed_name(filename, hashlib.blake2b(data, digest_size=6).hexdigest())
            target = self.built / name
            if not target.exists():
                # The gzipped copy first: once the file is there, so is its .gz (another worker may look).
                compressed = gzip.compress(data, 9, mtime=0)
                if len(compressed) < len(data) * 0.95:
                    _write_atomically(target.with_name(target.name + ".gz"), compressed)
                _write_atomically(target, data)
            self.whitenoise.add_file_to_dictionary(f"{self.prefix}/{name}", str(target))
            known = self._names[filename] = (mtime, name)
        return known[1]


def init_app(app, security_headers):
    """Serve hashed names through WhiteNoise (with `security_headers` added to each) and write them into
    every url_for('static', filename=…)."""
    def add_headers(headers, path, url):
        for name, value in security_headers.items():
            headers[name] = value

    whitenoise = WhiteNoise(app.wsgi_app, immutable_file_test=lambda path, url: bool(HASHED.search(url)),
                            add_headers_function=add_headers, allow_all_origins=False)
    app.wsgi_app = whitenoise
    files = StaticFiles(app.static_folder, Path(app.instance_path) / "static-built", app.static_url_path, whitenoise)
    app.extensions["static_files"] = files
    for root, _, names in os.walk(app.static_folder):
        for name in names:
            files.hashed(str(Path(root, name).relative_to(app.static_folder)))

    @app.url_defaults
    def _hashed_static_urls(endpoint, values):
        if endpoint == "static" and "filename" in values:
            values["filename"] = files.hashed(values["filename"]) or values["filename"]
