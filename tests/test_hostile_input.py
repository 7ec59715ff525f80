"""Hostile input is refused cleanly: control characters (NUL above all, which PostgreSQL cannot store) and
bidi overrides in names get a Chinese message beside the field or a Chinese 400 page; nothing is stored, never a 500."""
import importlib
import inspect
import pkgutil

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select

import gaoxin.forms
from gaoxin.forms.base import Form
from gaoxin.models import Appeal, AuditEntry, Enterprise, Role, UnitKind
from tests.conftest import PASSWORD, log_in, text_of

CONTROL = "不能包含控制字符"
BIDI = "名称中不能包含文字方向控制字符"
REQUEST_REFUSED = "请求中含有控制字符"
RLO = "\u202e"
OTHER_CODE = "91510100MA61R7CM5N"


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_every_form_inherits_the_base_form():
    for info in pkgutil.iter_modules(gaoxin.forms.__path__):
        module = importlib.import_module(f"gaoxin.forms.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FlaskForm) and cls is not FlaskForm:
                assert issubclass(cls, Form), f"{module.__name__}.{name} does not inherit gaoxin.forms.base.Form"


# --------------------------------------------------------------------------- before log-in


def test_a_nul_in_the_username_at_login_is_refused_beside_the_field(client, make_user, db):
    make_user(Role.clerk, username="wangming")
    response = client.post("/login", data={"username": "wangming\x00", "password": PASSWORD})
    assert response.status_code == 422
    assert f"用户名{CONTROL}" in text_of(response) and 'value="wangming"' in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_nul_in_the_password_at_login_is_refused(client, make_user):
    make_user(Role.clerk, username="wangming")
    response = client.post("/login", data={"username": "wangming", "password": PASSWORD + "\x00"})
    assert response.status_code == 422 and f"密码{CONTROL}" in text_of(response)


def test_a_nul_in_the_query_string_before_log_in_gets_a_chinese_400(client):
    response = client.get("/login?next=/%00")
    assert response.status_code == 400 and REQUEST_REFUSED in text_of(response)


def test_a_nul_in_the_user_agent_at_login_gets_a_400_and_nothing_is_recorded(client, make_user, db):
    make_user(Role.clerk, username="wangming")
    response = client.post("/login", data={"username": "wangming", "password": PASSWORD},
                           headers={"User-Agent": "evil\x00agent"})
    assert response.status_code == 400 and REQUEST_REFUSED in text_of(response)
    assert count(db, AuditEntry) == 0


# --------------------------------------------------------------------------- query strings


@pytest.mark.parametrize("path", [
    "/enterprises?q=%00",
    "/enterprises?q=%E8%BF%88%00%E6%99%AE",
    "/enterprises/suggest?q=%E8%BF%88%E6%99%AE%00",
    "/enterprises/suggest?list=x&label=name&name=ab%00",
    "/enterprises?q=a%1Bb",
    "/enterprises?q=a%C2%85b",
])
def test_control_characters_in_a_query_string_get_a_chinese_400(client, login_as, make_enterprise, path):
    make_enterprise(name="成都迈普通信技术股份有限公司")
    login_as(Role.clerk)
    response = client.get(path)
    assert response.status_code == 400 and REQUEST_REFUSED in text_of(response)
    fragment = client.get(path, headers={"HX-Request": "true"})
    assert fragment.status_code == 400 and REQUEST_REFUSED in text_of(fragment)
    assert "<html" not in fragment.get_data(as_text=True)


def test_a_bidi_override_in_a_search_is_no_error(client, login_as):
    login_as(Role.clerk)
    assert client.get(f"/enterprises?q={RLO}迈普").status_code == 200


# --------------------------------------------------------------------------- enterprise names


def enterprise_form(**overrides):
    data = {"name": "成都蓉光智能科技有限公司", "credit_code": OTHER_CODE, "legal_rep": "周杰", "address": "成都高新区天府三街",
            "building_id": "", "industry": "I", "size": "small", "contact_name": "陈静", "contact_mobile": "13900001111"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("field, value, label, message", [
    ("name", "成都蓉光\x00智能科技有限公司", "企业名称", CONTROL),
    ("name", "成都蓉光智能科技有限公司\x07", "企业名称", CONTROL),
    ("name", "成都蓉光\n智能科技有限公司", "企业名称", CONTROL),
    ("name", f"{RLO}司公限有技科能智光蓉都成", "企业名称", BIDI),
    ("name", "成都\u2066蓉光\u2069智能科技有限公司", "企业名称", BIDI),
    ("contact_name", f"{RLO}静陈", "联系人姓名", BIDI),
    ("legal_rep", "周\x00杰", "法定代表人", CONTROL),
    ("address", "成都高新区\x00天府三街", "住所", CONTROL),
    ("credit_code", OTHER_CODE + "\x00", "统一社会信用代码", CONTROL),
    ("contact_mobile", "13900001111\x00", "联系人手机", CONTROL),
    ("industry", "I\x00", "行业门类（GB/T 4754）", CONTROL),
])
def test_a_bad_character_in_an_enterprise_field_is_refused_beside_it(client, login_as, db, field, value, label,
                                                                      message):
    login_as(Role.clerk)
    response = client.post("/enterprises/new", data=enterprise_form(**{field: value}))
    assert response.status_code == 422
    page = text_of(response)
    assert (f"{label}{message}" if message == CONTROL else message) in page
    # The message sits with its field, and everything else typed is kept.
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert 'value="成都高新区天府三街"' in response.get_data(as_text=True) or field == "address"
    assert count(db, Enterprise) == 0


def test_the_refused_name_comes_back_without_the_invisible_character(client, login_as):
    login_as(Role.clerk)
    response = client.post("/enterprises/new", data=enterprise_form(name=f"{RLO}司公限有技科能智光蓉都成"))
    body = response.get_data(as_text=True)
    assert RLO not in body and "司公限有技科能智光蓉都成" in body


def test_a_clean_name_with_outer_whitespace_is_accepted(client, login_as, db):
    login_as(Role.clerk)
    response = client.post("/enterprises/new", data=enterprise_form(name="\t成都蓉光智能科技有限公司\r\n"))
    assert response.status_code == 303
    assert db.session.scalar(select(Enterprise.name)) == "成都蓉光智能科技有限公司"


def test_editing_an_enterprise_with_a_nul_changes_nothing(client, login_as, make_enterprise, db):
    enterprise = make_enterprise(name="成都迈普通信技术股份有限公司", credit_code=OTHER_CODE)
    login_as(Role.clerk)
    response = client.post(f"/enterprises/{enterprise.id}/edit", data=enterprise_form(
        name="成都迈普\x00通信技术股份有限公司", version=enterprise.version))
    assert response.status_code == 422 and CONTROL in text_of(response)
    db.session.expire_all()
    assert db.session.get(Enterprise, enterprise.id).name == "成都迈普通信技术股份有限公司"


# --------------------------------------------------------------------------- appeals


@pytest.fixture
def people(make_unit, make_user, make_category):
    dept = make_unit(UnitKind.department, name="科技人才局")
    station = make_unit(UnitKind.building_station, name="天府软件园楼宇企业服务站")
    return {
        "dept": dept,
        "clerk": make_user(Role.clerk, unit=station, name="王小红"),
        "handler": make_user(Role.handler, unit=dept, name="刘洋"),
        "category": make_category(name="人才", lead_unit=dept),
    }


def intake(enterprise, people, **overrides):
    data = {"submission_token": "tok-hostile", "enterprise_id": enterprise.id, "category_id": people["category"].id,
            "channel": "building_station", "content": "希望协调人才公寓。", "contact_name": "张三",
            "contact_mobile": "13812345678"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("field, value, message", [
    ("content", "希望协调\x00人才公寓。", CONTROL),
    ("content", "希望协调\x1b[31m人才公寓。", CONTROL),
    ("contact_name", f"{RLO}三张", BIDI),
    ("contact_name", "张\x00三", CONTROL),
    ("new_enterprise_name", "成都\x00天气科技有限公司", CONTROL),
    ("channel", "building_station\x00", CONTROL),
    ("enterprise_query", "迈普\x00", CONTROL),
])
def test_a_bad_character_in_the_appeal_intake_is_refused_and_nothing_is_stored(client, people, make_enterprise, db,
                                                                               field, value, message):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    response = client.post("/appeals/new", data=intake(enterprise, people, **{field: value}))
    assert response.status_code == 422
    assert message in text_of(response)
    assert count(db, Appeal) == 0


def test_a_nul_in_a_hidden_field_of_the_intake_gets_a_400_and_nothing_is_stored(client, people, make_enterprise, db):
    """Nobody types into a hidden field: a control character there is tampering, answered with the 400 page."""
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    response = client.post("/appeals/new", data=intake(enterprise, people, submission_token="tok\x00"))
    assert response.status_code == 400 and REQUEST_REFUSED in text_of(response)
    assert count(db, Appeal) == 0


def test_line_breaks_and_tabs_in_the_appeal_content_are_kept(client, people, make_enterprise, db):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    response = client.post("/appeals/new", data=intake(enterprise, people, content="第一段\r\n\t第二段"))
    assert response.status_code == 303
    assert db.session.scalar(select(Appeal.content)) == "第一段\r\n\t第二段"


def test_a_nul_in_an_action_on_an_appeal_changes_nothing(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    log_in(client, people["handler"].username)
    client.post(f"/appeals/{appeal.id}/sign", data={"version": appeal.version})
    db.session.expire_all()
    appeal = db.session.get(Appeal, appeal.id)
    state, version = appeal.state, appeal.version
    response = client.post(f"/appeals/{appeal.id}/reply", data={
        "version": version, "outcome": "resolved", "text": "已协调\x00完毕"})
    assert 400 <= response.status_code < 500 and CONTROL in text_of(response)
    db.session.expire_all()
    appeal = db.session.get(Appeal, appeal.id)
    assert (appeal.state, appeal.version) == (state, version)


def test_a_nul_in_a_form_value_read_without_a_form_gets_a_400(client, people, make_appeal, db):
    """The inbox's sign-for carries the list's filters as plain form values (no form class reads them)."""
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    log_in(client, people["handler"].username)
    response = client.post(f"/inbox/{appeal.id}/sign", data={"version": appeal.version, "sort": "due\x00"})
    assert response.status_code == 400 and REQUEST_REFUSED in text_of(response)
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).state == "dispatched"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_nul_under_a_name_some_form_types_into_never_reaches_a_view_that_reads_it_itself(client, people,
                                                                                          make_appeal, htmx):
    """"q" is a typed field of a form elsewhere, so the hook leaves the message to the form; the inbox reads it
    from request.form itself, and must get it without the NUL (PostgreSQL answered 500)."""
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    log_in(client, people["handler"].username)
    response = client.post(f"/inbox/{appeal.id}/sign", data={"version": appeal.version, "q": "迈普\x00"},
                           headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code < 500
    assert "\x00" not in response.get_data(as_text=True) and "%00" not in response.headers.get("Location", "")


# --------------------------------------------------------------------------- numbers beyond the id columns


BIG = "2147483648"  # 2**31: PostgreSQL refuses to compare an integer column with it ("integer out of range")


@pytest.mark.parametrize("path, status", [
    (f"/appeals/{BIG}", 404),
    ("/enterprises/99999999999999999999999", 404),
    (f"/appeals/new?enterprise={BIG}", 200),
    (f"/appeals/contact-options?enterprise_id={BIG}", 200),
    (f"/appeals?category={BIG}&enterprise=-{BIG}", 200),
])
def test_an_id_beyond_the_column_range_in_a_url_is_not_found(client, people, path, status):
    log_in(client, people["clerk"].username)
    assert client.get(path).status_code == status


@pytest.mark.parametrize("field", ["enterprise_id", "category_id", "salon_id", "contact_id"])
def test_an_id_beyond_the_column_range_in_a_form_is_refused(client, people, make_enterprise, db, field):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    response = client.post("/appeals/new", data=intake(enterprise, people, **{field: BIG}))
    assert response.status_code == 422
    assert count(db, Appeal) == 0


def test_a_co_handler_id_beyond_the_column_range_is_refused(client, people, make_appeal, make_user, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    dispatcher = make_user(Role.dispatcher)
    log_in(client, dispatcher.username)
    response = client.post(f"/appeals/{appeal.id}/dispatch", data={
        "version": appeal.version, "lead_unit_id": people["dept"].id, "co_unit_ids": [BIG]})
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("query", [f"category={BIG}", f"enterprise_id={BIG}", "category=99999999999999999999"])
def test_an_inbox_filter_beyond_the_column_range_filters_nothing_out(client, people, query):
    log_in(client, people["handler"].username)
    assert client.get(f"/inbox?{query}").status_code == 200
