"""Fuzzing every form endpoint of app.url_map with generated values, as a user allowed to use it: never a 500,
and nothing stored from a refused post.

GAOXIN_FUZZ_EXAMPLES sets the number of generated posts (default 150, about a minute; bench/ or a manual
run may use thousands): `GAOXIN_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz_forms.py`.
"""
import importlib
import inspect
import os
import pkgutil
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

import gaoxin.forms
from gaoxin.extensions import db as _db
from gaoxin.models import Role, UnitKind
from tests.conftest import log_in

EXAMPLES = int(os.environ.get("GAOXIN_FUZZ_EXAMPLES", "150"))
#: Who may try an endpoint, in the order tried; anonymous endpoints use a client without a session.
ROLES = (Role.clerk, Role.window, Role.handler, Role.dept_lead, Role.dispatcher, Role.sysadmin, Role.secadmin,
         Role.auditor, Role.leader)
ANONYMOUS = {"auth.login", "public.lookup", "salons.signup"}
#: Not fuzzed: logging out ends the session every other example needs.
SKIPPED = {"auth.logout", "portal.logout"}
#: Rows a refusal may still write: the audit trail (a denial is written down), log-in bookkeeping, uploads
#: kept for the next try.
MAY_GROW_ON_REFUSAL = {"audit_entries", "audit_chain", "user_sessions", "attachments"}
#: Values a person or a script may send where a form expects something else.
SPECIAL = ["", " ", "None", "null", "0", "-1", "1", "2", "3", "1.5", "1e309", "nan", "inf", "-0", "2147483648",
           "99999999999999999999",
           "1,000.50", "１２３", "2026-02-30", "2026-13-01", "0000-00-00", "true", "on", "y", "approve", "refuse",
           "accept", "supplement", "resolved", "satisfied", "up", "down", "district", "pdf", "\x00", "\u202e",
           "<script>alert(1)</script>", "'; DROP TABLE users;--", "../../etc/passwd", "%00", "\r\n", "\t",
           "91510100MA61R7CM5N", "13812345678", "/admin/users", "//evil.example", "Test-pass-2026"]


def all_field_names():
    """Every field name of every form in gaoxin.forms, plus the values views read from request.form."""
    names = {"mark-1", "reason-1", "paper-1", "file-1", "decision", "intent", "direction", "next", "version", "q",
             "tab", "page"}
    for info in pkgutil.iter_modules(gaoxin.forms.__path__):
        module = importlib.import_module(f"gaoxin.forms.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FlaskForm) and cls is not FlaskForm:
                names.update(name for name in dir(cls) if type(getattr(cls, name, None)).__name__ == "UnboundField")
    return sorted(names)


class FormParser(HTMLParser):
    """The post forms of a page: {action path: [(name, value), ...]} with the values the page fills in."""

    def __init__(self, page_path):
        super().__init__()
        self.page_path, self.forms, self.current, self.textarea = page_path, {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.current = self.forms.setdefault(urlsplit(attrs.get("action") or self.page_path).path, [])
        elif self.current is not None and attrs.get("name"):
            if tag == "input" and attrs.get("type") not in ("submit", "file"):
                if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                    self.current.append((attrs["name"], attrs.get("value") or ""))
            elif tag == "select":
                self.current.append((attrs["name"], ""))
            elif tag == "textarea":
                self.textarea = attrs["name"]
                self.current.append((attrs["name"], ""))

    def handle_data(self, data):
        if self.textarea and self.current:
            self.current[-1] = (self.textarea, data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "textarea":
            self.textarea = None


def page_forms(app, world):
    """Every post form found on the pages the world's users can open: {action path: filled-in pairs}."""
    forms = {}
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            path = url_for(rule.endpoint, **url_args(rule, world))
            for client in [world["anonymous"], *world["clients"].values()]:
                response = client.get(path)
                if response.status_code == 200 and response.mimetype == "text/html":
                    parser = FormParser(path)
                    parser.feed(response.get_data(as_text=True))
                    for action, pairs in parser.forms.items():
                        forms.setdefault(action, pairs)
    return forms


#: A plausible value with a control or bidi character in it: what broke PostgreSQL (issue 8).
with_control = st.builds(
    lambda text, char, at: text[:at] + char + text[at:],
    st.sampled_from(["成都天气科技有限公司", "wangming", "13812345678", "1", "2026-10-01", "希望协调人才公寓。"]),
    st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\x85", "\n", "\r", "\t", "\u202e", "\u2066"]),
    st.integers(0, 12),
)
values = st.one_of(
    with_control,
    st.sampled_from(SPECIAL),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.integers(-10**20, 10**20).map(str),
    st.integers(1, 20).map(str),
    st.integers(200, 120_000).map(lambda n: "长" * n),
)


@pytest.fixture
def world(app, make_unit, make_user, make_enterprise, make_category, make_appeal, make_policy, make_application, db,
          make_account, login_enterprise):
    """One of everything a URL can name, and a logged-in client per role."""
    from gaoxin.models import Contact

    dept = make_unit(UnitKind.department, name="科技人才局", is_paying_unit=True)
    users = {role: make_user(role, unit=dept if role in (Role.handler, Role.dept_lead) else None) for role in ROLES}
    victim = make_user(Role.clerk, username="victim")
    enterprise = make_enterprise(contact_name="李娜", contact_mobile="13812345678")
    category = make_category(lead_unit=dept)
    appeal = make_appeal(category=category, recorder=users[Role.clerk], enterprise=enterprise)
    policy = make_policy(department=dept)
    application = make_application(policy=policy, intake=users[Role.window], enterprise=enterprise)
    ids = {
        "user_id": victim.id, "unit_id": victim.unit_id, "appeal_id": appeal.id, "extension_id": 1,
        "application_id": application.id, "enterprise_id": enterprise.id, "category_id": category.id,
        "contact_id": db.session.scalar(select(Contact.id)), "policy_id": policy.id, "item_id": policy.items[0].id,
        "day": "2026-10-01", **_salon_ids(users[Role.dispatcher], dept, enterprise),
    }
    clients = {}
    for role, user in users.items():
        clients[role] = app.test_client()
        assert log_in(clients[role], user.username).status_code == 302
    # The enterprise whose cases these are, logged in on its portal (its online forms are posted to as well).
    clients["enterprise"] = app.test_client()
    login_enterprise(clients["enterprise"], make_account(contact=enterprise.contacts[0]))
    return {"ids": ids, "clients": clients, "anonymous": app.test_client(), "names": all_field_names()}


def _salon_ids(creator, dept, enterprise):
    """An open salon with a sign-up and a participant, for the salon routes."""
    import datetime

    from gaoxin.models.salon import SalonParticipant, SalonSignup, SalonState
    from gaoxin.services import salons

    salon = salons.create(creator, theme="促进民营企业发展", held_on=datetime.date(2026, 10, 1), department_ids=[dept.id])
    salon.state = SalonState.open
    signup = SalonSignup(salon_id=salon.id, enterprise_name=enterprise.name, credit_code=enterprise.credit_code,
                         contact_name="李娜", mobile="13812345678", topic="人才公寓")
    _db.session.add_all([signup, SalonParticipant(salon_id=salon.id, enterprise_id=enterprise.id)])
    _db.session.commit()
    return {"salon_id": salon.id, "signup_id": signup.id}


def url_args(rule, world):
    """Values for a rule's URL arguments: the world's object where it has one, else the first choice of an
    `any(...)` or 1 (a route added later is still posted to, if only for its 404)."""
    args = {}
    for arg in rule.arguments:
        converter = rule._converters.get(arg)
        if arg in world["ids"]:
            args[arg] = world["ids"][arg]
        elif getattr(converter, "items", None):
            args[arg] = sorted(converter.items)[0]
        else:
            args[arg] = 1
    return args


def form_endpoints(app, world):
    """(endpoint, path, client) for every POST route, with a client whose user may use it."""
    found = []
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "POST" not in rule.methods or rule.endpoint in SKIPPED:
                continue
            path = url_for(rule.endpoint, **url_args(rule, world))
            candidates = [world["anonymous"]] if rule.endpoint in ANONYMOUS else list(world["clients"].values())
            # The first user it neither forbids (403) nor hides the object from (404: not visible to them).
            chosen = candidates[0]
            for client in candidates:
                status = client.post(path, data={}).status_code
                assert status < 500, f"{rule.endpoint} answered {status} to an empty post"
                if status not in (403, 404):
                    chosen = client
                    break
            found.append((rule.endpoint, path, chosen))
    return found


def table_counts():
    counts = {}
    for table in _db.metadata.sorted_tables:
        if table.name not in MAY_GROW_ON_REFUSAL:
            counts[table.name] = _db.session.scalar(select(func.count()).select_from(table))
    _db.session.rollback()
    return counts


def test_no_generated_post_to_any_form_endpoint_gives_a_500_or_stores_a_refusal(app, world):
    endpoints = form_endpoints(app, world)
    assert len(endpoints) >= 40, [e for e, _, _ in endpoints]
    filled = page_forms(app, world)

    @st.composite
    def posts(draw):
        """A post to one endpoint: the page's own values with some changed, some left out, some repeated
        and some unknown fields added."""
        endpoint, path, client = draw(st.sampled_from(endpoints))
        pairs = list(filled.get(path, []))
        if pairs:
            changed = draw(st.sets(st.integers(0, len(pairs) - 1), max_size=len(pairs)))
            dropped = draw(st.sets(st.integers(0, len(pairs) - 1), max_size=2))
            pairs = [(name, draw(values) if i in changed else value)
                     for i, (name, value) in enumerate(pairs) if i not in dropped]
            pairs += draw(st.lists(st.sampled_from(pairs or [("x", "")]).map(lambda p: (p[0], "")), max_size=2))
        pairs += draw(st.lists(st.tuples(st.sampled_from(world["names"]) | st.text(max_size=12), values), max_size=4))
        return endpoint, path, client, pairs, draw(st.booleans())

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=bool(os.environ.get("CI")),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(posts())
    def post_anything(post):
        endpoint, path, client, pairs, htmx = post
        before = table_counts()
        response = client.post(path, data=MultiDict(pairs), headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code < 500, f"{endpoint} answered {response.status_code} to {pairs!r}"
        if 400 <= response.status_code < 500:
            assert table_counts() == before, f"{endpoint} refused {pairs!r} ({response.status_code}) but stored rows"

    post_anything()
