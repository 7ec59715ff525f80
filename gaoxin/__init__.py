"""高新通: the application factory."""
import logging
from pathlib import Path

from flask import Flask, current_app, request
from flask.logging import default_handler
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config, database
from .extensions import csrf, db, limiter, login_manager, migrate

#: Content-Security-Policy: nothing inline, nothing from elsewhere (an intranet has no CDN).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
#: Sent with every response, the static files WhiteNoise answers before the app included.
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(test_config=None):
    """Create the app; `test_config` overrides the environment (tests pass a database URL)."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config.fixed_settings())
    app.config.update(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    database.engine_options(app)

    if app.config["GAOXIN_PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["GAOXIN_PROXY_COUNT"])

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    # Flask-Limiter logs to its own logger with only a NullHandler: its "storage unreachable, falling back to
    # memory" warning would go nowhere. It goes where the app's own messages go.
    limiter_log = logging.getLogger("flask-limiter")
    if default_handler not in limiter_log.handlers:
        limiter_log.addHandler(default_handler)
    login_manager.init_app(app)

    from . import auth_hooks, errors, filters, input_guard, static_files

    # Before input_guard, whose check reads the body: the import page's own limit must apply by then.
    app.before_request(_request_size_limit)
    input_guard.init_app(app)
    auth_hooks.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    static_files.init_app(app, SECURITY_HEADERS)
    # "/inbox/" typed by hand finds "/inbox" (and the other way round) instead of a 404.
    app.url_map.strict_slashes = False
    _register_blueprints(app)
    from . import tasks

    tasks.init_app(app)
    app.after_request(_security_headers)
    from . import logs, metrics

    # After the blueprints: the request log's hooks go first and last, around the inbox poll's fast path too.
    logs.init_app(app)
    app.extensions["gaoxin_metrics_allow"] = metrics.allowed_networks(app.config["GAOXIN_METRICS_ALLOW"])

    from .cli import gaoxin_cli

    app.cli.add_command(gaoxin_cli)
    return app


def _register_blueprints(app):
    # Adds the enterprise's online actions to the portal blueprint: imported before that is registered.
    from .views import portal_actions  # noqa: F401
    from .views import admin, appeals, audit, auth, dispatch, enterprises, inbox, main, policies, public, settings

    for module in (auth, main, enterprises, admin, audit, appeals, inbox, dispatch, public, settings, policies):
        app.register_blueprint(module.bp)
    from .views import applications

    app.register_blueprint(applications.bp)
    from .views import dashboard, exports, jobs, ops, salons

    for module in (salons, dashboard, exports, jobs, ops):
        app.register_blueprint(module.bp)
    from .views import enterprise_accounts, portal

    for module in (portal, enterprise_accounts):
        app.register_blueprint(module.bp)
    from .views import contacts

    app.register_blueprint(contacts.bp)


def _request_size_limit():
    """The registry import accepts a whole export (GAOXIN_IMPORT_MAX_MB); every other request MAX_CONTENT_LENGTH."""
    if request.endpoint == "enterprises.import_form":
        request.max_content_length = current_app.config["GAOXIN_IMPORT_MAX_MB"] * 1024 * 1024


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
