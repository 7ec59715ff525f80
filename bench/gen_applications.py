"""Generate 200,000 policy applications over the demo catalogue and registry, for the list and figures benchmarks.

    .venv/bin/python bench/gen_applications.py --db sqlite        # bench/out/applications.sqlite
    .venv/bin/python bench/gen_applications.py --db postgresql    # gaoxin_bench_applications on 127.0.0.1:5432

The catalogue is the eight demo policies plus their six previous yearly editions (closed), so a zone's
seven years of 政策兑现. Applications to past editions are finished (disbursed, rejected and issued,
refused, a few abandoned drafts); those of the last four months are spread over every state of the
workflow, with deadlines counted in working days and some overdue. Rows go in through Core inserts in
batches (no ORM object per row); checklist rows and timeline events are not generated (no list or
figure reads them). Supplement notices (一次性告知书) are: one open notice for every application waiting for
its supplement, and an answered one for about a quarter of those the window accepted or refused (a few had two),
as the dashboard counts them per policy.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import datetime, time as clock, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import OUT  # noqa: E402

SQLITE_PATH = OUT / "applications.sqlite"
#: GAOXIN_BENCH_APPLICATIONS_DB names another PostgreSQL database (a helper's own copy, not the shared one).
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres",
      "dbname": os.environ.get("GAOXIN_BENCH_APPLICATIONS_DB") or "gaoxin_bench_applications"}
#: Previous yearly editions of each demo policy (the long-running one has a single edition).
EDITIONS = 6
#: Applications younger than this are still moving through the workflow.
IN_FLIGHT_DAYS = 120

#: (state, outcome, share) of a finished application.
FINISHED = [
    ("disbursed", "approved", 0.66), ("result_issued", "rejected", 0.22), ("refused", None, 0.07),
    ("result_issued", "approved", 0.03), ("draft", None, 0.02),
]
#: (state, outcome, share) of a recent application.
IN_FLIGHT = [
    ("draft", None, 0.03), ("submitted", None, 0.06), ("awaiting_supplement", None, 0.06), ("refused", None, 0.04),
    ("accepted", None, 0.24), ("approved", "approved", 0.06), ("rejected", "rejected", 0.05),
    ("result_issued", "approved", 0.12), ("result_issued", "rejected", 0.08), ("disbursed", "approved", 0.26),
]
#: States reached only after the window accepted the file (so they carry a review deadline).
ACCEPTED = {"accepted", "approved", "rejected", "result_issued", "disbursed"}
COLUMNS = (
    "id", "receipt_no", "enterprise_id", "policy_id", "department_id", "declared_amount", "state", "intake_unit_id",
    "intake_by_id", "submitted_at", "accepted_on", "review_due_on", "outcome", "approved_amount", "decision_reason",
    "reviewed_at", "result_issued_at", "disbursed_amount", "disbursed_on", "created_at", "updated_at", "version",
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--applications", type=int, default=200_000)
    parser.add_argument("--enterprises", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch", type=int, default=10_000)
    return parser.parse_args()


def database_url(kind, create=True):
    """The benchmark database's URL; with create, (re)create it empty first."""
    if kind == "sqlite":
        OUT.mkdir(parents=True, exist_ok=True)
        if create:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{SQLITE_PATH}"
    if not create:
        return f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{PG['dbname']}"
    # Created as the test database is: UTF8, C.UTF-8 collation, from template0.
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pg_testdb.py"), "--create", PG["host"], PG["port"], PG["user"],
         PG["dbname"]], check=True, capture_output=True, text=True,
    ).stdout.strip()


def make_app(url):
    from gaoxin import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False, "GAOXIN_PASSWORD_METHOD": "scrypt:1024:8:1",
                       "GAOXIN_DB_STATEMENT_TIMEOUT": 0})  # a COPY of 200,000 rows, not a web request


def log(message, started):
    print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)


def setup_catalogue(db, on):
    """Demo units, users and policies, the policies' previous editions, and a clerk for every intake unit."""
    from gaoxin.models import Policy, PolicyItem, Role, Unit, UnitKind, User
    from gaoxin.services import demo

    demo.create_units()
    demo.create_users()
    current = demo.create_demo_policies()
    for policy in current:
        if policy.opens_on is None:
            continue
        for back in range(1, EDITIONS + 1):
            year = on.year - back
            edition = Policy(
                code=policy.code.replace(str(on.year), str(year)), title=f"{policy.title}（{year}年度）",
                level=policy.level, department=policy.department, max_amount=policy.max_amount,
                review_days=policy.review_days, description=policy.description, active=True,
                opens_on=policy.opens_on - timedelta(days=365 * back),
                closes_on=policy.closes_on - timedelta(days=365 * back),
            )
            edition.items = [PolicyItem(position=i.position, name=i.name, required=i.required, formats=i.formats,
                                        note=i.note) for i in policy.items]
            db.session.add(edition)
    intake = [u for u in db.session.query(Unit) if u.kind in (
        UnitKind.window.value, UnitKind.building_station.value, UnitKind.service_point.value)]
    for number, unit in enumerate(intake):
        user = User(username=f"bench_intake{number}", name=f"受理人{number}", unit=unit, must_change_password=False)
        user.password_hash = "!"
        user.set_roles([Role.window if unit.kind == UnitKind.window.value else Role.clerk])
        db.session.add(user)
    db.session.commit()
    staff = {}
    for user in db.session.query(User).filter(User.username.like("bench_intake%")):
        staff[user.unit_id] = user.id
    return list(db.session.query(Policy).order_by(Policy.id)), staff


class Generator:
    """One application row at a time, as a dict of column values."""

    def __init__(self, policies, staff, enterprise_ids, rng, on, window_unit_id):
        from gaoxin.workflow import WorkingCalendar

        self.rng, self.on, self.enterprise_ids = rng, on, enterprise_ids
        self.calendar = WorkingCalendar()
        self._due = {}
        self.staff = staff
        self.window_unit_id = window_unit_id
        self.other_units = [u for u in staff if u != window_unit_id]
        # Only policies that have opened take applications; the newest editions draw more of them.
        self.policies = [p for p in policies if p.opens_on is None or p.opens_on <= on]
        self.weights = [1.0 if p.closes_on is None or p.closes_on >= on - timedelta(days=365) else 0.8
                        for p in self.policies]
        self.now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)

    def review_due(self, accepted_on, days):
        key = (accepted_on, days)
        if key not in self._due:
            self._due[key] = self.calendar.add_workdays(accepted_on, days)
        return self._due[key]

    def created_on(self, policy):
        """A day inside the policy's open period (the long-running policy: the last seven years)."""
        start = policy.opens_on or self.on - timedelta(days=365 * (EDITIONS + 1))
        end = min(policy.closes_on or self.on, self.on)
        if end >= self.on - timedelta(days=IN_FLIGHT_DAYS) and self.rng.random() < 0.5:
            # Recent applications cluster in the last weeks (the queue a department works).
            start = max(start, self.on - timedelta(days=IN_FLIGHT_DAYS))
            return max(start, end - timedelta(days=int(self.rng.expovariate(1 / 25))))
        return start + timedelta(days=self.rng.randint(0, max((end - start).days, 0)))

    def row(self, application_id):
        rng = self.rng
        policy = rng.choices(self.policies, self.weights)[0]
        created_on = self.created_on(policy)
        table = IN_FLIGHT if (self.on - created_on).days <= IN_FLIGHT_DAYS else FINISHED
        state, outcome, _ = rng.choices(table, [share for _, _, share in table])[0]
        created = datetime.combine(created_on, clock(1, 0)) + timedelta(seconds=rng.randint(0, 9 * 3600))
        created = min(created, self.now)
        unit = self.window_unit_id if rng.random() < 0.45 else rng.choice(self.other_units)
        maximum = int(policy.max_amount)
        declared = Decimal(max(100, rng.randint(maximum // 20, maximum) // 100 * 100)).quantize(Decimal("0.01"))
        row = dict.fromkeys(COLUMNS)
        row.update(
            id=application_id, enterprise_id=rng.choice(self.enterprise_ids), policy_id=policy.id,
            department_id=policy.department_id, declared_amount=declared, state=state, intake_unit_id=unit,
            intake_by_id=self.staff[unit], created_at=created, updated_at=created, version=1, outcome=outcome,
        )
        if state == "draft":
            return row
        row["submitted_at"] = created + timedelta(minutes=rng.randint(5, 90))
        row["receipt_no"] = f"SB{created_on:%Y%m%d}{application_id:07d}"
        row["version"] = 2
        if state in ("submitted", "awaiting_supplement", "refused"):
            if state == "refused":
                row["decision_reason"] = "申报主体不符合政策规定的条件。"
            return row
        accepted_on = min(created_on + timedelta(days=rng.choice((0, 0, 1, 2, 3, 7, 15))), self.on)
        row.update(accepted_on=accepted_on, review_due_on=self.review_due(accepted_on, policy.review_days), version=3)
        if state == "accepted":
            return row
        reviewed = datetime.combine(accepted_on, clock(2, 0)) + timedelta(days=rng.randint(1, 25))
        row.update(reviewed_at=min(reviewed, self.now), version=4)
        if outcome == "approved":
            row["approved_amount"] = (declared * Decimal(rng.choice((60, 80, 90, 100, 100, 100))) / 100).quantize(
                Decimal("0.01"))
        else:
            row["decision_reason"] = "经审查，研发投入未达到政策规定的增长比例。"
        if state in ("result_issued", "disbursed"):
            issued = row["reviewed_at"] + timedelta(days=rng.randint(1, 5))
            row.update(result_issued_at=min(issued, self.now), version=5)
        if state == "disbursed":
            row.update(disbursed_amount=row["approved_amount"], version=6,
                       disbursed_on=min((row["result_issued_at"] + timedelta(days=rng.randint(5, 40))).date(), self.on))
        row["updated_at"] = max(v for v in (row["reviewed_at"], row["result_issued_at"], created) if v)
        return row


def ensure_enterprises(db, count, started):
    """At least `count` registry enterprises (the demo generator's), returning their ids."""
    from gaoxin.demo_data import enterprise_rows
    from gaoxin.models import Enterprise
    from gaoxin.services.enterprises import upsert_rows

    have = db.session.query(Enterprise).count()
    if have < count:
        upsert_rows(enterprise_rows(count))
        db.session.commit()
    ids = [i for (i,) in db.session.query(Enterprise.id)]
    log(f"{len(ids)} enterprises", started)
    return ids


def generate(db, count, enterprise_count, seed, batch, started):
    from sqlalchemy import insert

    from gaoxin.models import Application, Unit, UnitKind
    from gaoxin.services.calendar import today

    on = today()
    policies, staff = setup_catalogue(db, on)
    log(f"{len(policies)} policies (with previous editions), {len(staff)} intake units", started)
    enterprise_ids = ensure_enterprises(db, enterprise_count, started)
    window = db.session.query(Unit).filter_by(kind=UnitKind.window.value).one()
    generator = Generator(policies, staff, enterprise_ids, random.Random(seed), on, window.id)
    statement = insert(Application.__table__)
    connection = db.session.connection()
    rows, states = [], {}
    for application_id in range(1, count + 1):
        row = generator.row(application_id)
        states[row["state"]] = states.get(row["state"], 0) + 1
        rows.append(row)
        if len(rows) >= batch:
            connection.execute(statement, rows)
            rows = []
            if application_id % 50_000 == 0:
                log(f"{application_id} applications", started)
    if rows:
        connection.execute(statement, rows)
    db.session.commit()
    notices = supplement_notices(db, random.Random(seed + 1), on)
    log(f"{notices} supplement notices", started)
    log(f"{count} applications: " + ", ".join(f"{s} {n}" for s, n in sorted(states.items(), key=lambda x: -x[1])),
        started)


#: What a window's notice lists (the item names of the demo policies' checklists).
NOTICE_ITEMS = json.dumps([{"item": "营业执照", "status": "missing", "reason": "未上传营业执照副本"},
                           {"item": "申报表", "status": "faulty", "reason": "申报表未加盖公章"}], ensure_ascii=False)


def supplement_notices(db, rng, on):
    """Notices for the applications just written (their own random stream, so the applications stay the same as
    without them): open for those awaiting a supplement, answered for about a quarter of those the window
    decided on (accepted or refused). Returns how many."""
    from sqlalchemy import insert, select

    from gaoxin.models import Application, SupplementNotice

    a = Application.__table__
    query = (select(a.c.id, a.c.state, a.c.intake_by_id, a.c.submitted_at, a.c.accepted_on)
             .where(a.c.submitted_at.is_not(None)).order_by(a.c.id))
    rows = []
    for app_id, state, by, submitted, accepted_on in db.session.execute(query):
        if state == "awaiting_supplement":
            issued = [(submitted + timedelta(days=rng.randint(0, 2)), None)]
        elif state in ("submitted", "draft") or rng.random() >= 0.25:
            continue
        else:
            count = 2 if rng.random() < 0.2 else 1
            issued = []
            for n in range(count):
                at = submitted + timedelta(days=n * 4 + rng.randint(0, 1))
                issued.append((at, min(at.date() + timedelta(days=rng.randint(1, 3)), accepted_on or on)))
        rows += [{"application_id": app_id, "issued_by_stage": "window", "items_json": NOTICE_ITEMS,
                  "issued_by_id": by, "issued_at": at, "completed_on": done} for at, done in issued]
    for i in range(0, len(rows), 10_000):
        db.session.connection().execute(insert(SupplementNotice.__table__), rows[i:i + 10_000])
    db.session.commit()
    return len(rows)


def finish(db, started):
    """Move the id sequence past the explicit ids and refresh the planner's statistics."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('applications', 'id'), (SELECT max(id) FROM applications))")
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    log("analyzed", started)


def main():
    args = parse_args()
    started = time.perf_counter()
    url = database_url(args.db)
    app = make_app(url)
    from gaoxin.extensions import db

    with app.app_context():
        db.create_all()
        generate(db, args.applications, args.enterprises, args.seed, args.batch, started)
        finish(db, started)
    print(url)


if __name__ == "__main__":
    main()
