"""The deployment files agree with the app: nginx's body limits and paths, gunicorn's settings, and the client
address behind one proxy (GAOXIN_PROXY_COUNT=1) in the audit log and the log-in rate limit.

nginx itself, two gunicorn servers and a browser: tests/browser/test_nginx_two_servers.py.
"""
import runpy
from pathlib import Path

import crossplane
import pytest
from flask import url_for
from sqlalchemy import select

from gaoxin import create_app
from gaoxin.models import AuditEntry

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
NGINX_SITE = ROOT / "deploy" / "nginx" / "gaoxin.conf"
CLIENT, FORGED = "198.51.100.20", "203.0.113.7"


def _site_locations():
    """{location path: its directives} of the HTTPS server block, plus the server block itself under None."""
    parsed = crossplane.parse(str(NGINX_SITE), check_ctx=False, single=True, comments=False)
    assert not parsed["errors"], parsed["errors"]
    server = next(d for d in parsed["config"][0]["parsed"] if d["directive"] == "server"
                  and any(listen["args"][0].startswith("443") for listen in d["block"] if listen["directive"] == "listen"))
    locations = {None: server["block"]}
    for directive in server["block"]:
        if directive["directive"] == "location":
            locations[directive["args"][-1]] = directive["block"]
    return locations


def _arg(block, name):
    return next(d["args"] for d in block if d["directive"] == name)


def _megabytes(size):
    assert size.endswith("m"), size
    return int(size[:-1]) * 1024 * 1024


def test_nginx_accepts_exactly_the_bodies_the_app_accepts(app):
    locations = _site_locations()
    assert _megabytes(_arg(locations[None], "client_max_body_size")[0]) == app.config["MAX_CONTENT_LENGTH"]
    with app.test_request_context():
        import_path = url_for("enterprises.import_form")
    assert _megabytes(_arg(locations[import_path], "client_max_body_size")[0]) == app.config["GAOXIN_IMPORT_MAX_MB"] * 1024 * 1024
    # What nginx answers for a larger body names the same limits as the app's own 413 page.
    assert f"不超过{app.config['MAX_CONTENT_LENGTH'] // 1024 // 1024} MB" in _arg(locations["@too_large"], "return")[1]
    assert f"不超过{app.config['GAOXIN_IMPORT_MAX_MB']} MB" in _arg(locations["@import_too_large"], "return")[1]


def test_nginx_serves_the_apps_static_folder_and_passes_the_client_on(app):
    locations = _site_locations()
    static_prefix = app.static_url_path + "/"
    assert _arg(locations[static_prefix], "alias")[0].endswith("/gaoxin/static/")
    assert Path(app.static_folder) == ROOT / "gaoxin" / "static"
    headers = {d["args"][0]: d["args"][1] for d in locations[None] if d["directive"] == "proxy_set_header"}
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Request-ID"] == "$request_id"


def test_gunicorn_defaults_are_those_run_sh_used(monkeypatch):
    for key in ("GAOXIN_WEB_WORKERS", "GAOXIN_WEB_THREADS", "GAOXIN_WEB_BIND", "PORT"):
        monkeypatch.delenv(key, raising=False)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (settings["workers"], settings["threads"], settings["bind"]) == (2, 4, "127.0.0.1:5000")
    assert settings["preload_app"] and settings["max_requests_jitter"] > 0
    assert settings["graceful_timeout"] < 40, "systemd's TimeoutStopSec (40 s) must leave the workers their grace"


def test_gunicorn_settings_follow_the_environment(monkeypatch):
    monkeypatch.setenv("GAOXIN_WEB_WORKERS", "5")
    monkeypatch.setenv("GAOXIN_WEB_THREADS", "2")
    monkeypatch.setenv("GAOXIN_WEB_BIND", "0.0.0.0:8000")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (settings["workers"], settings["threads"], settings["bind"]) == (5, 2, "0.0.0.0:8000")


def test_gunicorn_post_fork_leaves_an_app_that_is_not_ours_alone(app):
    """gunicorn reads ./gunicorn.conf.py whenever it starts in this folder, also for bench/reference_app.py (bare
    Flask, no database): its workers must boot. Ours get their inherited pool dropped."""
    from types import SimpleNamespace

    from flask import Flask

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    for wsgi in (Flask("bare"), app):
        server = SimpleNamespace(cfg=SimpleNamespace(preload_app=True), app=SimpleNamespace(wsgi=lambda w=wsgi: w))
        settings["post_fork"](server, None)  # raises for a bare Flask app without the guard


def test_gunicorn_compiles_the_templates_in_the_master_once_before_the_first_fork(tmp_path):
    """A worker forked from the preloaded master (also one max_requests replaces) starts with every template
    compiled, not compiling each on the first request that shows it."""
    import gc
    from types import SimpleNamespace

    from flask import Flask

    ours = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/db"})
    compiled = lambda: {key[1] for key in ours.jinja_env.cache.keys()}  # noqa: E731 - (loader, name) keys
    assert "appeals/show.html" not in compiled()
    try:
        for wsgi in (Flask("bare"), ours):  # another app started from this folder is left alone
            server = SimpleNamespace(cfg=SimpleNamespace(preload_app=True), app=SimpleNamespace(wsgi=lambda w=wsgi: w))
            runpy.run_path(str(ROOT / "gunicorn.conf.py"))["pre_fork"](server, None)
    finally:
        gc.unfreeze()
    assert {"appeals/show.html", "inbox/index.html", "base.html", "portal/base.html"} <= compiled()


@pytest.fixture
def proxied(app):
    """A client of the same app behind one trusted proxy (GAOXIN_PROXY_COUNT=1), nginx at 127.0.0.1."""
    behind = create_app({**{key: app.config[key] for key in (
        "TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "GAOXIN_PASSWORD_METHOD",
        "GAOXIN_DATA_DIR", "RATELIMIT_STORAGE_URI")}, "GAOXIN_PROXY_COUNT": 1})
    behind.test_client_class = app.test_client_class
    yield behind.test_client()
    with behind.app_context():
        from gaoxin.extensions import db

        db.engine.dispose()


def _log_in_from(client, forwarded, username, password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password},
                       headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": "127.0.0.1"})


def test_audit_log_has_the_address_nginx_saw_not_one_the_client_wrote(proxied, make_user, db):
    user = make_user()
    assert _log_in_from(proxied, f"{FORGED}, {CLIENT}", user.username).status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login", AuditEntry.user_id == user.id))
    assert entry.ip == CLIENT


def test_log_in_limit_counts_per_client_behind_the_proxy(proxied, db):
    for attempt in range(30):
        assert _log_in_from(proxied, CLIENT, f"nobody{attempt}", "wrong").status_code == 401
    assert _log_in_from(proxied, f"{FORGED}, {CLIENT}", "nobody", "wrong").status_code == 429
    # Another desk behind the same nginx is not held up by the first one's attempts.
    assert _log_in_from(proxied, "198.51.100.21", "nobody", "wrong").status_code == 401
