"""高新通: the application factory."""
from pathlib import Path

from flask import Flask, current_app, request
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config
from .extensions import csrf, db, limiter, login_manager, migrate

#: Content-Security-Policy: nothing inline, nothing from elsewhere (an intranet has no CDN).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def create_app(test_config=None):
    """Create the app; `test_config` overrides the environment (tests pass a database URL)."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config.fixed_settings())
    app.config.update(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    _engine_options(app)

    if app.config["GAOXIN_PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["GAOXIN_PROXY_COUNT"])

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # On this app's engine only: a listener on the Engine class would also fire for every other app's
        # engine, and each create_app() (the tests make many) would add one more.
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from . import auth_hooks, errors, filters, input_guard, static_files

    # Before input_guard, whose check reads the body: the import page's own limit must apply by then.
    app.before_request(_request_size_limit)
    input_guard.init_app(app)
    auth_hooks.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    static_files.init_app(app)
    # "/inbox/" typed by hand finds "/inbox" (and the other way round) instead of a 404.
    app.url_map.strict_slashes = False
    _register_blueprints(app)
    app.after_request(_security_headers)

    from .cli import gaoxin_cli

    app.cli.add_command(gaoxin_cli)
    return app


def _engine_options(app):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    if uri.startswith("postgresql"):
        # Server-side prepared statements (a statement run 5 times on a connection is parsed once), but
        # always planned for its parameters: a generic plan for `LIKE '%xx%'` was 5x slower than a custom
        # one, and no query here needs to skip planning more than it needs a plan for its values.
        # JIT off: the inbox's tab counts (one statement, estimated above jit_above_cost) spent 31 ms
        # compiling for 10 ms of work; every query here is short.
        options.setdefault("connect_args", {
            "prepare_threshold": 5, "options": "-c jit=off -c plan_cache_mode=force_custom_plan"})
        # No ping before every checkout (a round trip per request, and per inbox poll every 2 s): a
        # connection the server dropped fails one request, and SQLAlchemy then renews the whole pool.
        options.setdefault("pool_recycle", 3600)
    elif uri.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30})


def _sqlite_pragmas(dbapi_connection, record):
    """On every new SQLite connection: enforce foreign keys (off by default in SQLite), and WAL so that
    readers do not wait for the writer (synchronous=NORMAL is safe under WAL)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _register_blueprints(app):
    # Adds the enterprise's online actions to the portal blueprint: imported before that is registered.
    from .views import portal_actions  # noqa: F401
    from .views import admin, appeals, audit, auth, dispatch, enterprises, inbox, main, policies, public, settings

    for module in (auth, main, enterprises, admin, audit, appeals, inbox, dispatch, public, settings, policies):
        app.register_blueprint(module.bp)
    from .views import applications

    app.register_blueprint(applications.bp)
    from .views import dashboard, exports, salons

    for module in (salons, dashboard, exports):
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
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
