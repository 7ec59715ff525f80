"""Static files cached for a year: every url_for('static') carries the file's content hash (?v=…), and a
request with the current hash is answered `immutable`, so a browser never revalidates on navigation."""
import hashlib
from pathlib import Path

from flask import request

#: A year: the URL changes with the file's content, so a cached copy is never stale.
IMMUTABLE = "public, max-age=31536000, immutable"


def init_app(app):
    """Add the hash to static URLs and the long cache to responses that asked for the current hash."""
    hashes = {}

    def content_hash(filename):
        # Read again only when the file's modification time moves (an edit while the server runs).
        path = Path(app.static_folder) / filename
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        if hashes.get(filename, (None,))[0] != mtime:
            hashes[filename] = (mtime, hashlib.blake2b(path.read_bytes(), digest_size=6).hexdigest())
        return hashes[filename][1]

    @app.url_defaults
    def _version_static_urls(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = content_hash(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _cache_versioned_static(response):
        if (request.endpoint == "static" and response.status_code == 200
                and request.args.get("v") and request.args.get("v") == content_hash(request.view_args["filename"])):
            response.headers["Cache-Control"] = IMMUTABLE
            response.headers.pop("Expires", None)
        return response
