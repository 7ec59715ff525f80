"""Test fixtures: an app on SQLite or PostgreSQL (GAOXIN_TEST_DATABASE_URL), clean tables per test, factories."""
import itertools
import os
import re
from contextlib import contextmanager

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, text

from gaoxin import create_app
from gaoxin.extensions import db as _db
from gaoxin.models import Contact, Enterprise, Role, Unit, UnitKind, User
from gaoxin.services.enterprises import upsert_rows

PASSWORD = "Test-pass-2026"
_counter = itertools.count(1)


def _database_url(tmp_path_factory):
    url = os.environ.get("GAOXIN_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "WTF_CSRF_ENABLED": False,
        "GAOXIN_PASSWORD_METHOD": "scrypt:1024:8:1",
        "GAOXIN_DATA_DIR": str(tmp_path_factory.mktemp("files")),
        "RATELIMIT_STORAGE_URI": "memory://",
        # Background jobs run inside the request that queues them (Huey's immediate mode runs the real task).
        "GAOXIN_JOBS_URL": "immediate",
    })
    app.test_client_class = RequestClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


def truncate_all():
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    # DELETE, not TRUNCATE: a test leaves a few rows in a few tables, and PostgreSQL's TRUNCATE of ~40
    # tables cost ~0.5 s per test whatever they held. Ids keep counting up; no test relies on them.
    for name in tables:
        _db.session.execute(text(f"DELETE FROM {name}"))
    _db.session.commit()


@pytest.fixture(autouse=True)
def db(app):
    """A clean database for every test, inside an app context."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        truncate_all()
        _db.session.remove()
    from gaoxin.extensions import limiter

    limiter.reset()


class RequestClient(FlaskClient):
    """A test client whose every request runs in its own app context and database session, as in production.

    The test's own session is expired afterwards, so what the test reads next is what the request committed.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            _db.session.expire_all()
        return response


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_unit(db):
    def make(kind=UnitKind.department, name=None, **kw):
        unit = Unit(name=name or f"单位{next(_counter)}", kind=kind, **kw)
        db.session.add(unit)
        db.session.commit()
        return unit
    return make


@pytest.fixture
def make_user(db, make_unit):
    """make_user(role, unit=None, **fields) → a committed User whose password is PASSWORD."""
    default_kind = {
        Role.clerk: UnitKind.building_station, Role.window: UnitKind.window,
        Role.dispatcher: UnitKind.dispatch_centre, Role.handler: UnitKind.department,
        Role.dept_lead: UnitKind.department, Role.leader: UnitKind.zone,
    }

    def make(role=Role.clerk, unit=None, username=None, roles=None, **fields):
        role = Role(role)
        unit = unit or make_unit(default_kind.get(role, UnitKind.dispatch_centre))
        user = User(
            username=username or f"{role.value}{next(_counter)}", name=fields.pop("name", "测试用户"),
            unit=unit, must_change_password=fields.pop("must_change_password", False), **fields,
        )
        user.set_password(PASSWORD)
        user.set_roles(roles or [role])
        db.session.add(user)
        db.session.commit()
        return user
    return make


def log_in(client, username, password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def login_as(client, make_user):
    """login_as(role or user) → the logged-in User; the `client` fixture carries the session."""
    def login(role_or_user, **kw):
        user = role_or_user if isinstance(role_or_user, User) else make_user(role_or_user, **kw)
        response = log_in(client, user.username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user
    return login


@pytest.fixture
def make_enterprise(db):
    """make_enterprise(name=..., credit_code=..., contact_mobile=...) → a committed Enterprise."""
    from gaoxin.demo_data import make_credit_code
    import random

    rng = random.Random(7)

    def make(name=None, credit_code=None, **fields):
        code = credit_code or make_credit_code(rng)
        row = {"credit_code": code, "name": name or f"成都测试{next(_counter)}科技有限公司", **fields}
        upsert_rows([row])
        db.session.commit()
        return db.session.scalar(_db.select(Enterprise).where(Enterprise.credit_code == code))
    return make


@contextmanager
def statements_sent(app):
    """The SQL statements sent through `app`'s engine inside the with-block: a list, filled as they are sent."""
    seen = []

    def listener(conn, cursor, statement, *rest):
        seen.append(statement)
    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def text_of(response):
    """The response body as text with tags removed and whitespace collapsed: what a user reads."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def pytest_collection_modifyitems(config, items):
    """postgres_only tests run in the PostgreSQL pass; the SQLite pass deselects them (and says so)."""
    if (os.environ.get("GAOXIN_TEST_DATABASE_URL") or "").startswith("postgresql"):
        return
    deselected = [item for item in items if item.get_closest_marker("postgres_only")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: nothing may be skipped silently."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; in CI that is a failure.", red=True)
        session.exitstatus = 1


@pytest.fixture
def make_category(db, make_unit):
    """make_category(name=..., lead_unit=<Unit or None>, co_units=[...], handling_days=5) → AppealCategory."""
    from gaoxin.models import AppealCategory

    def make(name=None, lead_unit="new", co_units=(), handling_days=5):
        if lead_unit == "new":
            lead_unit = make_unit(UnitKind.department)
        category = AppealCategory(name=name or f"类别{next(_counter)}", lead_unit=lead_unit,
                                  co_units=list(co_units), handling_days=handling_days)
        db.session.add(category)
        db.session.commit()
        return category
    return make


@pytest.fixture
def make_appeal(db, make_user, make_enterprise, make_category):
    """make_appeal(category=None, recorder=None, enterprise=None, content=...) → an Appeal recorded and routed
    through the real service, as a clerk of a building station would."""
    from gaoxin.models import Channel
    from gaoxin.services import appeals as service

    def make(category=None, recorder=None, enterprise=None, content="企业希望了解人才公寓申请条件。", channel=None):
        recorder = recorder or make_user(Role.clerk)
        appeal, _ = service.record(
            recorder, enterprise=enterprise or make_enterprise(), category=category or make_category(),
            channel=channel or Channel.building_station.value, content=content,
        )
        db.session.commit()
        return appeal
    return make


@pytest.fixture
def make_policy(db, make_unit):
    """make_policy(title=..., department=<Unit>, items=["申报表", ("审计报告", False, "pdf")], opens=-10, closes=30
    (days from today; None for no bound), max_amount="500000.00", review_days=20) → a committed Policy.
    An item given as a name is required and accepts pdf, jpg and png."""
    import datetime
    from decimal import Decimal

    from gaoxin.models import Policy, PolicyItem
    from gaoxin.services.calendar import today

    def make(title=None, department=None, items=("申报表", "营业执照"), opens=-10, closes=30, max_amount="500000.00",
             review_days=20, level="district", active=True, code=None):
        n = next(_counter)
        on = today()
        policy = Policy(
            code=code or f"GX-{n:04d}", title=title or f"测试政策{n}", level=level,
            department=department or make_unit(UnitKind.department), max_amount=Decimal(max_amount),
            review_days=review_days, active=active,
            opens_on=None if opens is None else on + datetime.timedelta(days=opens),
            closes_on=None if closes is None else on + datetime.timedelta(days=closes),
        )
        for position, entry in enumerate(items):
            name, required, formats = (entry, True, "pdf,jpg,png") if isinstance(entry, str) else entry
            policy.items.append(PolicyItem(name=name, required=required, formats=formats, position=position))
        db.session.add(policy)
        db.session.commit()
        return policy
    return make


@pytest.fixture
def make_application(db, make_user, make_enterprise, make_policy):
    """make_application(policy=None, intake=<User>, enterprise=None, declared="100000.00", submit=True, paper=True)
    → an Application saved (and submitted) through the real service, every item's paper copy received."""
    from decimal import Decimal

    from gaoxin.services import applications as service

    def make(policy=None, intake=None, enterprise=None, declared="100000.00", submit=True, paper=True):
        policy = policy or make_policy()
        materials = {item.id: ((), paper) for item in policy.items}
        application, _ = service.save(
            intake or make_user(Role.window), enterprise=enterprise or make_enterprise(), policy=policy,
            declared_amount=Decimal(declared), materials=materials, submit=submit,
        )
        db.session.commit()
        return application
    return make


@pytest.fixture
def make_account(db, make_enterprise):
    """make_account(enterprise=None, contact=None, password=PASSWORD, login_name=None, active=True) → a committed,
    activated EnterpriseAccount of `contact` (a new contact of `enterprise`, or of a new enterprise)."""
    from gaoxin.models import EnterpriseAccount, utcnow

    def make(enterprise=None, contact=None, password=PASSWORD, login_name=None, active=True):
        if contact is None:
            enterprise = enterprise or make_enterprise()
            contact = Contact(enterprise_id=enterprise.id, name=f"联系人{next(_counter)}", mobile="13800138000")
            db.session.add(contact)
            db.session.flush()
        account = EnterpriseAccount(
            enterprise_id=contact.enterprise_id, contact_id=contact.id, active=active,
            login_name=login_name or f"ent{next(_counter)}", activated_at=utcnow(), password_changed_at=utcnow(),
        )
        account.set_password(password)
        db.session.add(account)
        db.session.commit()
        return account
    return make


@pytest.fixture
def login_enterprise():
    """login_enterprise(client, account, password=PASSWORD) logs in through the portal's log-in form."""
    def login(client, account, password=PASSWORD):
        response = client.post("/e/login", data={"login_name": account.login_name, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return account
    return login
