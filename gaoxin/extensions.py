"""Flask extensions, created unbound here and initialised in create_app()."""
import click
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

#: Named constraints so that migrations can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class LazyMigrate:
    """Flask-Migrate, imported only when a migration runs (`flask db …`, a test's upgrade()): it imports alembic,
    ~47 MB in every web worker that never migrates. The app gets a stand-in for Flask-Migrate's config and a
    `db` command group that both load the real ones on first use."""

    def __init__(self, **options):
        self.options = options

    def init_app(self, app, db, directory):
        app.extensions["migrate"] = _LazyMigrateConfig(app, db, directory, self.options)
        app.cli.add_command(_LazyDbCommands(name="db", help="Perform database migrations (Flask-Migrate)."))


class _LazyMigrateConfig:
    """Stands in for flask_migrate's per-app config; the first attribute read builds the real one."""

    def __init__(self, app, db, directory, options):
        self._args, self._real = (app, db, directory, options), None

    def __getattr__(self, name):
        if self._real is None:
            from flask_migrate import Migrate, _MigrateConfig

            app, db, directory, options = self._args
            migrate = Migrate(db=db, directory=directory, **options)
            self._real = app.extensions["migrate"] = _MigrateConfig(migrate, db, **migrate.alembic_ctx_kwargs)
        return getattr(self._real, name)


class _LazyDbCommands(click.Group):
    """`flask db …`: Flask-Migrate's command group, imported when the command line asks for it."""

    @staticmethod
    def _real():
        from flask_migrate.cli import db as commands

        return commands

    def parse_args(self, ctx, args):
        # The real group's options (--directory, --x-arg) and callback, which puts them on `g` for every
        # subcommand (`upgrade` reads g.directory): without them `flask db upgrade` failed.
        real = self._real()
        self.params, self.callback = real.params, real.callback
        return super().parse_args(ctx, args)

    def list_commands(self, ctx):
        return self._real().list_commands(ctx)

    def get_command(self, ctx, name):
        return self._real().get_command(ctx, name)


migrate = LazyMigrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
