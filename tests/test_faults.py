"""Issue 14, bad days: the database down or hanging (a Chinese 503 within seconds, recovery without a restart),
Redis down (rate limits fall back to memory with one warning, then shared again), the upload volume unwritable
(a message by the field, everything typed kept, no row without its file). Drills at full load: bench/faults/."""
import io
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from gaoxin import create_app
from gaoxin.extensions import db
from gaoxin.models import Appeal, Attachment, Role, UnitKind
from tests.conftest import PASSWORD, log_in, text_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_on(url, **config):
    """Another instance of the app (another 'server') on the database at `url`."""
    return create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url,
                       "WTF_CSRF_ENABLED": False, "GAOXIN_PASSWORD_METHOD": "scrypt:1024:8:1",
                       "GAOXIN_DB_CONNECT_TIMEOUT": 1, "RATELIMIT_STORAGE_URI": "memory://", **config})


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


# --------------------------------------------------------------------------- the database is down


def test_a_closed_database_port_answers_a_chinese_503_page_at_once():
    closed = free_port()
    down = app_on(f"postgresql+psycopg://postgres@127.0.0.1:{closed}/gaoxin")
    client = down.test_client()
    response, seconds = timed(lambda: client.post("/login", data={"username": "handler", "password": PASSWORD}))
    page = text_of(response)
    assert response.status_code == 503 and seconds < 5
    assert "数据库暂时无法访问" in page and "本次操作没有保存" in page and "Traceback" not in page
    assert "Retry-After" in response.headers and response.get_data(as_text=True).startswith("<!doctype html>")

    fragment = client.post("/login", data={"username": "handler", "password": PASSWORD}, headers={"HX-Request": "true"})
    assert fragment.status_code == 503
    assert fragment.get_data(as_text=True).startswith('<p class="form-alert" role="alert">系统暂时无法使用：数据库暂时无法访问')


def test_a_database_that_accepts_but_never_answers_gives_a_503_after_the_connect_timeout():
    """A server that hangs (the TCP handshake completes, nothing is ever said) must not hold the worker."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        client = app_on(f"postgresql+psycopg://postgres@127.0.0.1:{port}/gaoxin").test_client()
        response, seconds = timed(lambda: client.post("/login", data={"username": "u", "password": PASSWORD}))
    assert response.status_code == 503 and "数据库暂时无法访问" in text_of(response)
    assert seconds < 10


def test_a_bug_in_sql_is_still_a_500_not_a_503():
    """Only "unreachable or busy" is a 503; a wrong statement is an error to fix, logged as one."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from gaoxin.errors import database_unavailable

    try:
        db.session.execute(text("SELECT no_such_column FROM units"))
    except (OperationalError, ProgrammingError) as exc:
        assert not database_unavailable(exc)
    else:
        pytest.fail("the statement should have failed")


class Cuttable:
    """A TCP relay between the app and PostgreSQL that a test can cut (every connection dropped, the port
    refused, as when the server stops) and restore on the same port, as when it comes back."""

    def __init__(self, host, port):
        self.target, self.port, self.sockets, self.listener = (host, port), free_port(), [], None
        self.resume()

    def resume(self):
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        # shutdown() wakes the thread blocked in accept(); close() alone would leave it accepting.
        for s in [self.listener] + self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.sockets = []


@pytest.fixture
def relayed(app):
    """Another app instance reaching the test database through a relay the test can cut."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    relay = Cuttable(url.host or "127.0.0.1", url.port or 5432)
    server = app_on(url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False))
    yield relay, server
    relay.cut()
    with server.app_context():
        db.engine.dispose()


@pytest.mark.postgres_only
def test_the_site_answers_503_while_postgresql_is_gone_and_recovers_by_itself(relayed, make_user):
    relay, server = relayed
    user = make_user(Role.handler)
    client = server.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    assert client.get("/inbox").status_code == 200

    relay.cut()
    response, seconds = timed(lambda: client.get("/inbox"))
    assert response.status_code == 503 and "数据库暂时无法访问" in text_of(response) and seconds < 10
    poll = client.get("/inbox", headers={"HX-Request": "true"})
    assert poll.status_code == 503 and "数据库暂时无法访问" in text_of(poll)

    relay.resume()
    # The same app object, no restart: the pool pings, finds its connections dead and opens new ones.
    back = client.get("/inbox")
    assert back.status_code == 200 and user.name in text_of(back)


@pytest.mark.postgres_only
def test_a_connection_lost_before_the_requests_rollback_does_not_turn_its_answer_into_a_500(relayed):
    """Seen in the drill: PostgreSQL stopping between a request's last statement and the ROLLBACK at its end."""
    relay, server = relayed
    with server.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1
        relay.cut()
    # Leaving the context ran the teardown without raising; the next context works once the server is back.
    relay.resume()
    with server.app_context():
        assert db.session.execute(text("SELECT 2")).scalar() == 2


@pytest.mark.postgres_only
def test_a_request_waiting_on_a_lock_gives_up_after_the_lock_timeout_with_a_503(app, make_user):
    """Someone holds a table lock (a long migration, a stuck session): the page says so within seconds."""
    import psycopg

    username = make_user(Role.handler).username
    db.session.rollback()  # the test's own transaction must not hold a lock on users that LOCK TABLE waits for
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    server = app_on(url.render_as_string(hide_password=False), GAOXIN_DB_LOCK_TIMEOUT=1)
    client = server.test_client()
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as holder:
        holder.execute("SET lock_timeout = '5s'")
        holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        response, seconds = timed(lambda: client.post("/login", data={"username": username, "password": PASSWORD}))
        holder.rollback()
    assert response.status_code == 503 and "数据库暂时无法访问" in text_of(response)
    assert 1 <= seconds < 5
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    with server.app_context():
        db.engine.dispose()


# --------------------------------------------------------------------------- Redis is down


@pytest.fixture
def private_redis():
    """A redis-server of this test's own on a free port (the shared one is never stopped)."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    folder, port = tempfile.mkdtemp(prefix="redis-"), free_port()
    state = {}

    def start():
        state["process"] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", folder],
            stdout=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop():
        state["process"].terminate()
        state["process"].wait(10)

    start()
    yield {"port": port, "start": start, "stop": stop}
    if state["process"].poll() is None:
        stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_rate_limits_fall_back_to_memory_while_redis_is_down_and_are_shared_again_after(
        app, private_redis, caplog, monkeypatch):
    import redis

    # An earlier test that ran migrations (alembic's fileConfig) disables every logger it does not name.
    monkeypatch.setattr(logging.getLogger("flask-limiter"), "disabled", False)

    store = redis.Redis(port=private_redis["port"])
    server = app_on(app.config["SQLALCHEMY_DATABASE_URI"],
                    RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{private_redis['port']}/0")
    client = server.test_client()
    lookup = {"receipt_no": "SQ202600000000001", "code_tail": "000000"}
    try:
        assert client.post("/track", data=lookup).status_code == 200
        assert store.keys("*"), "the limit's counter lives in Redis while Redis is up"

        private_redis["stop"]()
        with caplog.at_level(logging.WARNING, logger="flask-limiter"):
            answers = [timed(lambda: client.post("/track", data=lookup)) for _ in range(3)]
        assert [r.status_code for r, _ in answers] == [200, 200, 200] and max(s for _, s in answers) < 10
        warnings = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
        assert len(warnings) == 1
        # …and it reaches the server's log: Flask-Limiter's own logger has only a NullHandler.
        assert any(not isinstance(h, logging.NullHandler) for h in logging.getLogger("flask-limiter").handlers)
        # The limit still holds, counted in this worker's memory: 10 lookups a minute.
        statuses = [client.post("/track", data=lookup).status_code for _ in range(10)]
        assert statuses[-1] == 429

        private_redis["start"]()
        # Flask-Limiter asks Redis again after 1, 2, 4 … 32 s (backing off while it stays down): at most ~32 s.
        deadline = time.monotonic() + 40
        while not store.keys("*") and time.monotonic() < deadline:
            client.post("/track", data=lookup)
            time.sleep(0.5)
        assert store.keys("*"), "counting went back to Redis once it answered again"
    finally:
        # The limiter is one object for every app in this process: give the test app its memory storage back.
        app_on(app.config["SQLALCHEMY_DATABASE_URI"])


# --------------------------------------------------------------------------- the upload volume


@pytest.fixture
def clerk_and_category(make_unit, make_user, make_category):
    station = make_unit(UnitKind.building_station)
    return make_user(Role.clerk, unit=station), make_category(name="人才", lead_unit=make_unit(UnitKind.department))


@pytest.mark.parametrize("breakage", ["a file where the folder should be", "a read-only folder"])
def test_an_unwritable_upload_volume_keeps_the_form_and_records_nothing(
        app, client, db, make_enterprise, clerk_and_category, tmp_path, monkeypatch, breakage):
    clerk, category = clerk_and_category
    enterprise = make_enterprise()
    if breakage == "a file where the folder should be":
        broken = tmp_path / "files"
        broken.write_text("not a folder")
    else:
        broken = tmp_path / "ro"
        broken.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(broken)],
                          capture_output=True).returncode != 0:
            pytest.skip("mounting a read-only tmpfs is not allowed here")
    monkeypatch.setitem(app.config, "GAOXIN_DATA_DIR", str(broken))
    try:
        log_in(client, clerk.username)
        response = client.post("/appeals/new", data={
            "submission_token": f"t-{breakage}", "enterprise_id": enterprise.id, "category_id": category.id,
            "channel": "building_station", "content": "企业希望了解人才公寓申请条件，材料见附件。",
            "no_contact_reason": "现场登记", "files": (io.BytesIO(PDF), "申请表.pdf")})
    finally:
        if breakage == "a read-only folder":
            subprocess.run(["umount", str(broken)], check=True)
    page = text_of(response)
    assert response.status_code == 422
    assert "文件“申请表.pdf”未能保存：附件存储空间已满或暂时无法写入" in page
    assert "企业希望了解人才公寓申请条件，材料见附件。" in page
    assert db.session.scalar(select(func.count()).select_from(Appeal)) == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_full_upload_volume_leaves_no_partial_file_behind(app, client, db, make_enterprise, clerk_and_category,
                                                           tmp_path, monkeypatch):
    clerk, category = clerk_and_category
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not allowed here")
    try:
        monkeypatch.setitem(app.config, "GAOXIN_DATA_DIR", str(full))
        log_in(client, clerk.username)
        big = PDF + b"0" * (200 * 1024)
        response = client.post("/appeals/new", data={
            "submission_token": "t-full", "enterprise_id": make_enterprise().id, "category_id": category.id,
            "channel": "building_station", "content": "附件较大。", "no_contact_reason": "现场登记",
            "files": (io.BytesIO(big), "扫描件.pdf")})
        assert response.status_code == 422 and "未能保存：附件存储空间已满" in text_of(response)
        assert os.listdir(full) == [], "the half-written temporary file is removed"
    finally:
        subprocess.run(["umount", str(full)], check=True)
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
