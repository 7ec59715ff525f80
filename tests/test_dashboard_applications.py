"""The dashboard's applications per policy equal what each application's own record gives, for the zone and for a
department lead, over periods that cut through the applications (an empty one too)."""
import datetime as dt
import random
from decimal import Decimal

import pytest

from gaoxin.models import Application, Role, SupplementNotice, UnitKind
from gaoxin.services import figures
from tests.conftest import text_of

UTC = dt.timezone.utc
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def filed(db, make_unit, make_user, make_policy, make_enterprise):
    """60 applications to three policies of two departments over three months, in every state, with notices."""
    rng = random.Random(7)
    departments = [make_unit(UnitKind.department, name=n) for n in ("科技人才局", "财政金融局")]
    policies = [make_policy(title=t, department=d) for t, d in
                (("研发投入补贴", departments[0]), ("人才安居补贴", departments[0]), ("贷款贴息", departments[1]))]
    window = make_user(Role.window)
    enterprise = make_enterprise()
    applications = []
    for i in range(60):
        policy = policies[i % 3]
        created = dt.datetime(2026, 8 + i % 3, 1 + rng.randrange(28), rng.randrange(24), tzinfo=UTC)
        declared = Decimal(rng.randrange(1, 50) * 10000)
        application = Application(
            enterprise_id=enterprise.id, policy_id=policy.id, department_id=policy.department_id,
            declared_amount=declared, intake_unit_id=window.unit_id, intake_by_id=window.id, created_at=created,
            state="draft")
        if rng.random() < 0.9:
            application.state, application.submitted_at = "submitted", created + dt.timedelta(hours=rng.randrange(30))
            application.receipt_no = f"SB{i:08d}"
            if rng.random() < 0.7:
                application.state, application.accepted_on = "accepted", (created + dt.timedelta(days=2)).date()
                if rng.random() < 0.7:
                    application.outcome = rng.choice(["approved", "rejected"])
                    application.state = "result_issued"
                    if application.outcome == "approved":
                        application.approved_amount = declared * Decimal("0.8")
                        if rng.random() < 0.6:
                            application.state, application.disbursed_amount = "disbursed", application.approved_amount
        db.session.add(application)
        db.session.flush()
        for _ in range(rng.choice([0, 0, 1, 2])):
            db.session.add(SupplementNotice(application_id=application.id, items_json="[]", issued_by_id=window.id))
        applications.append(application)
    db.session.commit()
    return departments, policies, applications


def expected(applications, policies, department_id, start, end):
    """{policy code: figures} computed from each application's record: those submitted in [start, end] (China)."""
    rows = {}
    for policy in policies:
        if department_id is not None and policy.department_id != department_id:
            continue
        mine = [a for a in applications if a.policy_id == policy.id and a.submitted_at
                and start <= a.submitted_at.astimezone(CST).date() <= end]
        if not mine:
            continue
        approved = [a for a in mine if a.outcome == "approved"]
        rows[policy.code] = {
            "received": len(mine), "accepted": sum(1 for a in mine if a.accepted_on),
            "supplements": sum(len(a.notices) for a in mine), "approved": len(approved),
            "amount_approved": sum((a.approved_amount for a in approved), Decimal(0)),
            "amount_disbursed": sum((a.disbursed_amount for a in mine if a.disbursed_amount), Decimal(0)),
        }
    return rows


@pytest.mark.parametrize("start,end", [
    (dt.date(2026, 8, 1), dt.date(2026, 10, 31)), (dt.date(2026, 8, 15), dt.date(2026, 9, 20)),
    (dt.date(2026, 9, 1), dt.date(2026, 9, 30)), (dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
])
def test_applications_per_policy_equal_those_computed_from_the_applications(db, filed, start, end):
    departments, policies, applications = filed
    db.session.expire_all()
    with db.session.no_autoflush:
        for application in applications:
            db.session.refresh(application, ["notices"])
    for department_id in (None, departments[0].id, departments[1].id):
        got = {r["code"]: {k: r[k] for k in ("received", "accepted", "supplements", "approved", "amount_approved",
                                              "amount_disbursed")}
               for r in figures.applications_by_policy(figures.Period("custom", start, end), department_id)}
        want = expected(applications, policies, department_id, start, end)
        assert got == want, (department_id, start, end)


def test_the_page_lists_each_policy_with_its_received_count(client, login_as, filed):
    _, policies, applications = filed
    login_as(Role.leader)
    page = text_of(client.get("/dashboard/?period=custom&start=2026-08-01&end=2026-10-31"))
    for policy in policies:
        received = sum(1 for a in applications if a.policy_id == policy.id and a.submitted_at)
        assert f"{policy.code} {policy.title} {received} " in page
