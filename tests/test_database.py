"""How pages use the database (issue 9): one statement before a page's own work, prepared statements kept with
generic plans (the registry search's too), and pooled connections pinged only after sitting idle."""
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gaoxin.extensions import db
from gaoxin.models import Role
from tests.conftest import log_in, statements_sent, text_of
from tests.test_faults import app_on


def test_a_page_starts_with_one_statement_for_the_session_user_roles_and_stamps(app, client, login_as):
    user = login_as(Role.handler)
    assert client.get("/").status_code == 200
    with statements_sent(app) as seen:
        client.get("/")
    page = client.get("/")
    assert user.name in text_of(page) and "待签收" in text_of(page)
    # The session with its user, unit and roles, the calendar's stamp and the unit's work stamp: one statement,
    # and none of them read again by the page.
    assert "user_sessions" in seen[0] and "user_roles" in seen[0], seen
    assert "calendar_overrides" in seen[0] and "work_stamps" in seen[0], seen
    again = [s for s in seen[1:] if any(t in s for t in ("user_sessions", "user_roles", "calendar_", "work_stamps"))]
    assert not again, again


def test_a_change_committed_elsewhere_is_seen_by_the_next_page(app, client, login_as, make_category, make_appeal):
    user = login_as(Role.handler)
    category = make_category(lead_unit=user.unit)
    first = make_appeal(category=category)
    assert first.receipt_no in text_of(client.get("/inbox"))
    second = make_appeal(category=category)  # committed by the test, as another worker would
    page = text_of(client.get("/inbox"))
    assert first.receipt_no in page and second.receipt_no in page


@pytest.mark.postgres_only
def test_the_registry_search_is_prepared_like_the_pages_statements(app, make_user, make_enterprise):
    make_enterprise(name="成都硅宝科技有限公司")
    server = _server(app)
    client = server.test_client()
    log_in(client, make_user(Role.clerk).username)
    for _ in range(8):  # psycopg prepares a statement at its 5th execution on a connection
        page = client.get("/enterprises?q=硅宝")
        assert "成都硅宝科技有限公司" in text_of(page)
    with server.app_context():  # the pool is LIFO: the connection the requests used
        prepared = [row[0] for row in db.session.execute(text("SELECT statement FROM pg_prepared_statements"))]
        db.engine.dispose()
    # The search's one statement picks the gram it walks inside itself, so a custom plan cannot know it either:
    # a generic plan was as fast for every shape of query (bench/README.md), and preparing saves the planning.
    assert [s for s in prepared if "FROM enterprises JOIN enterprise_grams" in s], prepared
    # The user loader's statement runs on every page: parsed once, and planned generically once it may be.
    assert [s for s in prepared if "FROM user_sessions" in s], prepared


def _server(app, **config):
    """Another instance of the app with its own pool, on the test database."""
    return app_on(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=False), **config)


def _logged_in_and_killed(app, make_user, **config):
    """A server with its own pool, a handler logged in and shown the home page, then the PostgreSQL process
    behind the connection that served it terminated, as a restart of the database would."""
    server = _server(app, **config)
    user = make_user(Role.handler)
    client = server.test_client()
    log_in(client, user.username)
    assert client.get("/").status_code == 200
    with server.app_context():  # the pool is LIFO: the connection that served the page
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
    db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    db.session.commit()
    return server, client, user


@pytest.mark.postgres_only
def test_a_connection_that_died_while_idle_is_replaced_before_a_request_meets_it(app, make_user):
    server, client, user = _logged_in_and_killed(app, make_user, GAOXIN_DB_PING_AFTER_IDLE=0.2)
    time.sleep(0.3)
    page = client.get("/")
    assert page.status_code == 200 and user.name in text_of(page)
    with server.app_context():
        db.engine.dispose()


@pytest.mark.postgres_only
def test_a_connection_that_died_while_busy_fails_one_request_with_the_503_and_the_next_works(app, make_user):
    server, client, user = _logged_in_and_killed(app, make_user, GAOXIN_DB_PING_AFTER_IDLE=60)
    # Not pinged (it was in use a moment ago): the request that meets the dead connection gets the Chinese 503…
    failed = client.get("/")
    assert failed.status_code == 503 and "数据库暂时无法访问" in text_of(failed)
    # …and that disconnect renewed the pool: the next request works without a restart.
    page = client.get("/")
    assert page.status_code == 200 and user.name in text_of(page)
    with server.app_context():
        db.engine.dispose()
