"""Generate 1,000,000 appeals over the 220,000-enterprise demo registry, for the inbox and dispatcher benchmarks.

    .venv/bin/python bench/gen_appeals.py --db sqlite        # bench/out/appeals.sqlite
    .venv/bin/python bench/gen_appeals.py --db postgresql    # database gaoxin_bench_appeals on 127.0.0.1:5432

Rows go in through the driver's executemany in batches (no ORM object per row). The mix is what ten
years of a zone looks like: nearly everything closed, a few thousand open cases per department (the
busiest, 科技人才局, has about a quarter of all), some supervised, some past their deadline, a queue of
unrouted and returned cases, pending extension requests.
"""
import argparse
import os
import random
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import OUT  # noqa: E402

SQLITE_PATH = OUT / "appeals.sqlite"
#: GAOXIN_BENCH_APPEALS_DB names another PostgreSQL database (a helper's own copy, not the shared one).
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres",
      "dbname": os.environ.get("GAOXIN_BENCH_APPEALS_DB") or "gaoxin_bench_appeals"}

#: Category → lead department (None: the dispatch centre's queue), with its share of all appeals.
CATEGORIES = [
    ("人才", "科技人才局", 0.16), ("融资", "财政金融局", 0.14), ("场地", "投资服务局", 0.12),
    ("政策咨询", "经济运行局", 0.16), ("审批服务", "政务服务中心", 0.12), ("知识产权", "科技人才局", 0.09),
    ("市场拓展", "市场监管局", 0.09), ("规划报建", "规划建设局", 0.07), ("其他", None, 0.05),
]
#: Final state → share of all appeals (the rest of a year's cases are closed).
STATE_SHARES = [
    ("awaiting_dispatch", 0.002), ("dispatched", 0.005), ("in_progress", 0.03), ("replied", 0.01),
    ("withdrawn", 0.01), ("closed", 0.943),
]
PHRASES = [
    "企业反映研发人员落户和子女入学需要协调", "希望了解今年高新技术企业认定的申报条件和时间", "申请贷款贴息，咨询所需材料",
    "办公场地租金上涨，希望协调孵化器空间", "工程规划许可审批进度较慢，请求加快", "商标被他人恶意抢注，请求指导维权",
    "希望参加境外展会，咨询市场拓展补贴", "企业扩产需要新增用电容量，请求协调供电部门", "咨询研发费用加计扣除政策口径",
    "人才公寓申请排队时间较长，希望了解进度", "银行授信额度不足，希望对接政府引导基金", "园区停车位紧张，请求增加临时车位",
]
CHANNELS = ["building_station", "service_point", "window", "salon", "phone", "online"]
APPEAL_COLUMNS = (
    "id", "receipt_no", "enterprise_id", "category_id", "channel", "content", "state", "recorded_by_id",
    "recording_unit_id", "lead_unit_id", "assignee_id", "handling_days", "dispatched_at", "sign_due_on", "signed_at",
    "signed_in_time", "due_on", "extended_days", "return_count", "supervised_at", "reopened", "reply_outcome",
    "reply_text", "replied_at", "replied_in_time", "satisfaction", "followed_up_at", "closed_at", "created_at",
    "updated_at", "version",
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=220_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--rollup-only", action="store_true",
                        help="only (re)fill the dashboard rollup of an existing database, timed (migration 0012's backfill)")
    return parser.parse_args()


def database_url(kind):
    """Recreate the benchmark database and return its URL."""
    OUT.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{SQLITE_PATH}"
    # Same creation as the test database: UTF8 with C.UTF-8 collation, from template0.
    url = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pg_testdb.py"), "--create", PG["host"], PG["port"], PG["user"],
         PG["dbname"]], check=True, capture_output=True, text=True,
    ).stdout.strip()
    return url


def make_app(url):
    from gaoxin import create_app

    # No statement time-out: the app's 30 s guards a web request, not a COPY of a million rows.
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "GAOXIN_DB_STATEMENT_TIMEOUT": 0})


def log(message, started):
    print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)


class Writer:
    """Insert tuples through the driver's executemany, converting dates to strings for SQLite."""

    def __init__(self, db):
        self.connection = db.session.connection()
        self.sqlite = self.connection.dialect.name == "sqlite"
        self.mark = "?" if self.connection.dialect.paramstyle == "qmark" else "%s"

    def value(self, v):
        if self.sqlite and isinstance(v, datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S.%f")
        if self.sqlite and isinstance(v, date):
            return v.isoformat()
        return v

    def insert(self, table, columns, rows):
        if not rows:
            return
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([self.mark] * len(columns))})"
        self.connection.exec_driver_sql(sql, [tuple(self.value(v) for v in row) for row in rows])


def setup_org(db):
    """Demo units and users, one handler per department, and the categories with their routing rules."""
    from gaoxin.models import AppealCategory, Role, Unit, UnitKind, User
    from gaoxin.services import demo

    demo.create_units()
    demo.create_users()
    units = {u.name: u for u in db.session.query(Unit)}
    for i, name in enumerate(demo.DEPARTMENTS):
        user = User(username=f"bench_h{i}", name=f"经办人{i}", unit=units[name], must_change_password=False)
        user.password_hash = "!"
        user.set_roles([Role.handler])
        db.session.add(user)
    for position, (name, lead, _) in enumerate(CATEGORIES):
        db.session.add(AppealCategory(name=name, position=position, lead_unit_id=units[lead].id if lead else None))
    db.session.commit()
    handlers = {}
    for user in db.session.query(User):
        if user.has_role(Role.handler) and user.unit.kind == UnitKind.department.value:
            handlers.setdefault(user.unit_id, []).append(user.id)
    intake = [u.id for u in units.values() if u.kind in ("building_station", "service_point", "window")]
    departments = [units[n].id for n in demo.DEPARTMENTS]
    categories = [(c.id, c.lead_unit_id, share) for c, (_, _, share) in zip(
        db.session.query(AppealCategory).order_by(AppealCategory.position), CATEGORIES)]
    clerk = db.session.query(User).filter_by(username="clerk_station").one()
    dispatcher = db.session.query(User).filter_by(username="dispatcher").one()
    names = {u.id: u.name for u in units.values()}
    return {"handlers": handlers, "intake": intake, "departments": departments, "categories": categories,
            "clerk": clerk.id, "dispatcher": dispatcher.id, "unit_names": names}


class Generator:
    """Builds one appeal tuple at a time, plus its co-handlers, return events and extensions."""

    def __init__(self, org, enterprise_ids, rng, today, now):
        from gaoxin.workflow import WorkingCalendar

        self.org, self.rng, self.today, self.now = org, rng, today, now
        self.enterprise_ids = enterprise_ids
        self.calendar = WorkingCalendar()
        self._workdays = {}
        self.states = [s for s, _ in STATE_SHARES]
        self.state_weights = [w for _, w in STATE_SHARES]
        self.categories = org["categories"]
        self.category_weights = [share for _, _, share in self.categories]
        self.co_rows, self.event_rows, self.extension_rows = [], [], []

    def add_workdays(self, start, n):
        key = (start, n)
        if key not in self._workdays:
            self._workdays[key] = self.calendar.add_workdays(start, n)
        return self._workdays[key]

    def created(self, state):
        """When it was recorded: open cases are recent (some long overdue), closed ones spread over ten years."""
        rng = self.rng
        if state == "dispatched":
            # Signed for within a working day as a rule; one in five lies unsigned longer (sign-for overdue).
            days = rng.choice((0, 0, 0, 0, 0, 1, 1, 1, 2, 4))
        elif state == "in_progress":
            # Most are inside their handling limit; about one in six has run past it, some by months.
            days = rng.randint(0, 6) if rng.random() < 0.85 else rng.randint(7, 90)
        elif state in ("awaiting_dispatch", "replied"):
            days = rng.randint(0, 20)
        else:
            days = rng.randint(21, 3650)
        return self.now - timedelta(days=days, seconds=rng.randint(0, 86399))

    def appeal(self, appeal_id):
        rng, org = self.rng, self.org
        state = rng.choices(self.states, self.state_weights)[0]
        category_id, rule_lead, _ = rng.choices(self.categories, self.category_weights)[0]
        created = self.created(state)
        created_on = (created + timedelta(hours=8)).date()
        lead = rule_lead if rule_lead and rng.random() < 0.9 else rng.choice(org["departments"])
        handling_days = 5 if rng.random() < 0.8 else rng.choice((3, 10, 15))
        row = dict.fromkeys(APPEAL_COLUMNS)
        row.update(
            id=appeal_id, receipt_no=f"SQ{created_on:%Y%m%d}{appeal_id:07d}",
            enterprise_id=rng.choice(self.enterprise_ids), category_id=category_id,
            channel=rng.choice(CHANNELS), content=rng.choice(PHRASES) + "。" + rng.choice(PHRASES) + "。",
            state=state, recorded_by_id=org["clerk"], recording_unit_id=rng.choice(org["intake"]),
            lead_unit_id=lead, handling_days=handling_days, extended_days=0, return_count=0, reopened=False,
            created_at=created, updated_at=created, version=1,
        )
        if state == "awaiting_dispatch":
            self._queued(row, rule_lead)
            return row
        row["dispatched_at"] = created + timedelta(minutes=1)
        row["sign_due_on"] = self.add_workdays(created_on, 1)
        row["due_on"] = self.add_workdays(created_on, handling_days)
        if state != "dispatched" and not (state == "withdrawn" and rng.random() < 0.3):
            signed = created + timedelta(hours=rng.randint(1, 30))
            row.update(signed_at=signed, signed_in_time=signed.date() <= row["sign_due_on"],
                       assignee_id=rng.choice(org["handlers"][lead]), version=2)
        if state in ("dispatched", "in_progress"):
            if rng.random() < 0.05:
                row["supervised_at"] = created + timedelta(days=1)
        elif rng.random() < 0.02:
            row["supervised_at"] = created + timedelta(days=2)
        if state == "in_progress" and rng.random() < 0.03:
            self.extension_rows.append((appeal_id, rng.choice((3, 5, 10)), "需要外部单位出具意见，申请延期。", "pending",
                                        org["handlers"][lead][0], created + timedelta(days=2)))
        if state in ("replied", "closed"):
            replied = created + timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 8))
            row.update(reply_outcome=rng.choice(("resolved", "resolved", "explained", "adopted")),
                       reply_text="已与企业沟通并办理。", replied_at=replied,
                       replied_in_time=replied.date() <= row["due_on"], updated_at=replied, version=3)
            if state == "closed":
                followed = replied + timedelta(days=rng.randint(1, 5))
                row.update(satisfaction=rng.choice(("satisfied", "satisfied", "satisfied", "basically", "unsatisfied")),
                           followed_up_at=followed, closed_at=followed, updated_at=followed, version=4)
        if state == "withdrawn":
            row["closed_at"] = created + timedelta(days=rng.randint(1, 5))
        if rng.random() < 0.12:
            co_unit = rng.choice([d for d in org["departments"] if d != lead])
            pending = state == "dispatched" or (state == "in_progress" and rng.random() < 0.5)
            given = None if pending else (created + timedelta(days=1))
            self.co_rows.append((appeal_id, co_unit, None if pending else "同意主办部门意见。", given,
                                 None if pending else org["handlers"][co_unit][0]))
        return row

    def _queued(self, row, rule_lead):
        """Waiting for the dispatcher: no rule, or returned by a department (with its reason)."""
        rng, org = self.rng, self.org
        row["lead_unit_id"] = None
        returns = 0 if rule_lead is None and rng.random() < 0.5 else rng.choice((1, 1, 1, 2, 3))
        row["return_count"] = returns
        for n in range(returns):
            unit = rng.choice(org["departments"])
            suggested = org["unit_names"][rng.choice(org["departments"])]
            self.event_rows.append((row["id"], row["created_at"] + timedelta(hours=2 + n), "return", org["handlers"][unit][0],
                                    unit, "in_progress", "awaiting_dispatch",
                                    f"第{n + 1}次退单：不属于本部门职责（建议转{suggested}）", False))
        if returns:
            row["version"] = 1 + 2 * returns


def generate(db, count, enterprise_count, seed, batch, started):
    from gaoxin.models import Enterprise
    from gaoxin.services.calendar import today
    from gaoxin.services.enterprises import load_demo_enterprises

    org = setup_org(db)
    log("units, users and categories", started)
    have = db.session.query(Enterprise).count()
    if have < enterprise_count:
        load_demo_enterprises(enterprise_count - have)
        db.session.commit()
    enterprise_ids = [i for (i,) in db.session.query(Enterprise.id)]
    log(f"{len(enterprise_ids)} enterprises", started)

    rng = random.Random(seed)
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    generator = Generator(org, enterprise_ids, rng, today(), now)
    writer = Writer(db)
    rows = []
    for appeal_id in range(1, count + 1):
        row = generator.appeal(appeal_id)
        rows.append(tuple(row[c] for c in APPEAL_COLUMNS))
        if len(rows) >= batch:
            writer.insert("appeals", APPEAL_COLUMNS, rows)
            rows = []
            if appeal_id % 100_000 == 0:
                log(f"{appeal_id} appeals", started)
    writer.insert("appeals", APPEAL_COLUMNS, rows)
    writer.insert("appeal_co_handlers", ("appeal_id", "unit_id", "opinion", "opinion_at", "opinion_by_id"),
                  generator.co_rows)
    writer.insert("events", ("appeal_id", "at", "action", "actor_id", "actor_unit_id", "from_state",
                                    "to_state", "comment", "public"), generator.event_rows)
    writer.insert("appeal_extensions", ("appeal_id", "days", "reason", "status", "requested_by_id", "requested_at"),
                  generator.extension_rows)
    db.session.commit()
    log(f"{count} appeals, {len(generator.co_rows)} co-handlers, {len(generator.event_rows)} return events, "
        f"{len(generator.extension_rows)} pending extensions", started)


def fill_rollup(db, started):
    """The dashboard rollup from the rows written directly (what migration 0012 and `flask gaoxin rollup-rebuild`
    run), timed: wall and this process's CPU (on PostgreSQL the work is the server's)."""
    from gaoxin.models import AppealRollup
    from gaoxin.services import rollups

    AppealRollup.__table__.create(db.engine, checkfirst=True)
    load, wall, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
    count = rollups.rebuild(db.session)
    db.session.commit()
    log(f"rollup filled: {count:,} rows in {time.perf_counter() - wall:.1f} s wall, "
        f"{time.process_time() - cpu:.1f} s CPU here, load average {load:.1f} -> {os.getloadavg()[0]:.1f}", started)


def finish(db, started):
    """Reset the id sequences after explicit ids and refresh the planner's statistics."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("appeals", "events", "appeal_extensions"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))")
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    log("analyzed", started)


def main():
    args = parse_args()
    started = time.perf_counter()
    if args.rollup_only:
        url = (f"sqlite:///{SQLITE_PATH}" if args.db == "sqlite"
               else f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{PG['dbname']}")
    else:
        url = database_url(args.db)
    app = make_app(url)
    from gaoxin.extensions import db

    with app.app_context():
        if not args.rollup_only:
            db.create_all()
            generate(db, args.appeals, args.enterprises, args.seed, args.batch, started)
        fill_rollup(db, started)
        finish(db, started)
    print(url)


if __name__ == "__main__":
    main()
