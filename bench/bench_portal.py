"""我的事项 and an appeal page of the enterprise portal, through the Flask test client (server time: routing,
queries, rendering). One enterprise with APPEALS appeals among OTHERS of other enterprises, SQLite in a temp file.

    .venv/bin/python bench/bench_portal.py [APPEALS] [OTHERS] [REQUESTS]
"""
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gaoxin import create_app  # noqa: E402
from gaoxin.extensions import db  # noqa: E402
from gaoxin.models import AppealCategory, Channel, Contact, EnterpriseAccount, Role, Unit, UnitKind, User, utcnow  # noqa: E402
from gaoxin.services import appeals as appeal_service  # noqa: E402
from gaoxin.services.enterprises import upsert_rows  # noqa: E402

PASSWORD = "Bench-pass-2026"


def setup(appeals, others):
    from gaoxin.demo_data import make_credit_code
    import random

    rng = random.Random(1)
    station, department = Unit(name="楼宇站", kind=UnitKind.building_station), Unit(name="科技人才局", kind=UnitKind.department)
    clerk = User(username="clerk", name="登记员", unit=station, must_change_password=False)
    clerk.set_password(PASSWORD)
    clerk.set_roles([Role.clerk])
    category = AppealCategory(name="人才", lead_unit=department, handling_days=5)
    db.session.add_all([station, department, clerk, category])
    db.session.commit()
    codes = [make_credit_code(rng) for _ in range(21)]
    upsert_rows([{"credit_code": c, "name": f"成都测试{i}科技有限公司"} for i, c in enumerate(codes)])
    db.session.commit()
    from gaoxin.models import Enterprise
    enterprises = db.session.scalars(db.select(Enterprise).order_by(Enterprise.id)).all()
    mine = enterprises[0]
    for n in range(appeals + others):
        enterprise = mine if n < appeals else enterprises[1 + n % 20]
        appeal_service.record(clerk, enterprise=enterprise, category=category, channel=Channel.building_station.value,
                              content=f"诉求内容{n}")
        if n % 200 == 0:
            db.session.commit()
    contact = Contact(enterprise_id=mine.id, name="联系人", mobile="13800138000")
    db.session.add(contact)
    db.session.flush()
    account = EnterpriseAccount(enterprise_id=mine.id, contact_id=contact.id, login_name="bench", activated_at=utcnow())
    account.set_password(PASSWORD)
    db.session.add(account)
    db.session.commit()
    from gaoxin.models import Appeal
    return db.session.scalar(db.select(Appeal.id).where(Appeal.enterprise_id == mine.id).order_by(Appeal.id.desc()))


def measure(client, url, requests):
    times = []
    cpu = time.process_time()
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    cpu = (time.process_time() - cpu) * 1000 / requests
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], cpu


def main():
    appeals, others, requests = (int(a) for a in (sys.argv[1:] + ["2000", "20000", "200"][len(sys.argv) - 1:])[:3])
    folder = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "GAOXIN_PASSWORD_METHOD": "scrypt:1024:8:1",
                      "GAOXIN_DATA_DIR": folder, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        appeal_id = setup(appeals, others)
        print(f"{appeals} appeals of the enterprise, {others} of others: set up in {time.perf_counter() - started:.0f} s")
    client = app.test_client()
    assert client.post("/e/login", data={"login_name": "bench", "password": PASSWORD}).status_code == 302
    for label, url in (("我的事项, page 1", "/e/"), ("我的事项, page 10", "/e/?page=10"),
                       ("appeal page", f"/e/appeals/{appeal_id}"), ("receipt", f"/e/appeals/{appeal_id}/receipt")):
        p50, p95, cpu = measure(client, url, requests)
        print(f"{label:20} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  CPU {cpu:5.1f} ms/request")


if __name__ == "__main__":
    main()
