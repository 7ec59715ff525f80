"""Finding an enterprise: by name fragment (Simplified or Traditional), pinyin initials or credit-code prefix."""
import re
from datetime import date

import pytest
from sqlalchemy import event

from gaoxin.models import Building, Role
from tests.conftest import text_of

MAIPU = "成都迈普通信技术股份有限公司"
SHULIAN = "成都数联铭品科技有限公司"
MAIPU_CODE = "915101002019061633"
ENTERPRISE_LINK = re.compile(r'href="/enterprises/\d+"')


@pytest.fixture
def registry(make_enterprise):
    """The article's enterprises plus a neighbour with another code prefix."""
    return {
        "maipu": make_enterprise(MAIPU, MAIPU_CODE, industry="C", size="large"),
        "shulian": make_enterprise(SHULIAN, "91510100MA61R7CM5N", industry="I"),
        "guibao": make_enterprise("成都硅宝科技股份有限公司", "915101007130802804", industry="C"),
        "other": make_enterprise("四川锦程物流有限公司", "91510107MA6CGKLW2L", industry="G"),
    }


@pytest.fixture
def clerk(login_as):
    return login_as(Role.clerk)


@pytest.mark.parametrize("query", ["迈普", "邁普", "迈普通信", "mptx", "MPTX", "迈 普"])
def test_clerk_finds_maipu_by_fragment_traditional_characters_or_initials(client, registry, clerk, query):
    page = text_of(client.get("/enterprises", query_string={"q": query}))
    assert MAIPU in page
    assert SHULIAN not in page


def test_a_two_character_fragment_from_the_middle_of_a_name_finds_it(client, registry, clerk):
    page = text_of(client.get("/enterprises", query_string={"q": "数联"}))
    assert SHULIAN in page and MAIPU not in page


def test_a_credit_code_prefix_finds_the_enterprises_registered_under_it(client, registry, clerk):
    page = text_of(client.get("/enterprises", query_string={"q": "9151010020"}))
    assert MAIPU in page and MAIPU_CODE in page
    assert "四川锦程物流有限公司" not in page


def test_a_lower_case_code_prefix_with_spaces_still_matches(client, registry, clerk):
    page = text_of(client.get("/enterprises", query_string={"q": "9151 0100 20"}))
    assert MAIPU in page


def test_no_match_says_so_in_chinese(client, registry, clerk):
    page = text_of(client.get("/enterprises", query_string={"q": "量子鲸鱼"}))
    assert "未找到与“量子鲸鱼”相符的企业" in page


def test_one_character_asks_for_more(client, registry, clerk):
    page = text_of(client.get("/enterprises", query_string={"q": "迈"}))
    assert "请至少输入2个字" in page
    assert MAIPU not in page


def test_results_show_code_legal_rep_building_and_industry(client, make_enterprise, clerk, db):
    building = Building(name="天府软件园")
    db.session.add(building)
    db.session.commit()
    make_enterprise(MAIPU, MAIPU_CODE, legal_rep="王明", industry="C", building_id=building.id,
                    founded_on=date(1998, 3, 5), status="存续")
    make_enterprise("成都迈普测试科技有限公司", "91510100MA61R7CM5N")
    rows = result_rows(client.get("/enterprises?q=迈普", headers={"HX-Request": "true"}))
    assert rows[MAIPU] == [MAIPU, MAIPU_CODE, "王明", "存续", "1998-03-05", "天府软件园", "C 制造业"]
    assert rows["成都迈普测试科技有限公司"] == ["成都迈普测试科技有限公司", "91510100MA61R7CM5N", "—", "—", "—", "—", "—"]


def result_rows(response):
    """{enterprise name: the texts of its row's cells} of a results table."""
    body = response.get_data(as_text=True)
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]:
        cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
                 for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0]] = cells
    return rows


def test_a_deregistered_or_revoked_enterprise_is_marked_in_results_and_suggestions(client, make_enterprise, clerk):
    make_enterprise(MAIPU, MAIPU_CODE, status="吊销，未注销")
    make_enterprise("成都迈普测试科技有限公司", "91510100MA61R7CM5N", status="存续")
    results = client.get("/enterprises?q=迈普").get_data(as_text=True)
    assert '<span class="status status-bad">吊销，未注销</span>' in results
    assert '<span class="status">存续</span>' in results
    suggestions = client.get("/enterprises/suggest?q=迈普").get_data(as_text=True)
    assert suggestions.count("status-bad") == 1
    assert re.search(MAIPU + r' <strong class="status status-bad">吊销，未注销</strong><small>' + MAIPU_CODE, suggestions)


def test_the_empty_search_page_works_without_javascript(client, clerk):
    response = client.get("/enterprises")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<form method="get" action="/enterprises"' in body and 'name="q"' in body
    assert 'hx-trigger="input changed delay:200ms, search"' in body and 'hx-push-url="true"' in body
    assert body.count("<h1") == 1 and '<label for="q">' in body


def test_htmx_gets_only_the_results_block(client, registry, clerk):
    response = client.get("/enterprises?q=迈普", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "<html" not in body and "<h1" not in body
    assert body.lstrip().startswith('<div id="results"')
    assert MAIPU in text_of(response)
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_fragment_for_no_match_carries_the_message(client, registry, clerk):
    response = client.get("/enterprises?q=量子鲸鱼", headers={"HX-Request": "true"})
    assert "<html" not in response.get_data(as_text=True)
    assert "未找到与“量子鲸鱼”相符的企业" in text_of(response)


def test_a_history_restore_gets_the_whole_page(client, registry, clerk):
    response = client.get("/enterprises?q=迈普", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_results_are_paged_twenty_at_a_time(client, make_enterprise, clerk):
    for i in range(25):
        make_enterprise(f"成都云帆{i:02d}号科技有限公司")
    first = client.get("/enterprises?q=云帆").get_data(as_text=True)
    assert len(ENTERPRISE_LINK.findall(first)) == 20
    assert "下一页" in first and "上一页" not in first
    second = client.get("/enterprises?q=云帆&page=2").get_data(as_text=True)
    assert len(ENTERPRISE_LINK.findall(second)) == 5
    assert "上一页" in second and "下一页" not in second


def test_suggest_lists_links_for_the_keyboard(client, registry, clerk):
    response = client.get("/enterprises/suggest?q=mptx")
    body = response.get_data(as_text=True)
    assert body.startswith('<ul id="enterprise-suggestions"') and "data-typeahead-list" in body
    assert f'href="/enterprises/{registry["maipu"].id}"' in body
    assert MAIPU_CODE in body and "<html" not in body


def test_suggest_in_pick_mode_renders_buttons_that_fill_a_hidden_field(client, registry, clerk):
    body = client.get("/enterprises/suggest?pick=enterprise_id&label=enterprise_query&enterprise_query=迈普").get_data(as_text=True)
    assert '<button type="button" data-pick-target="enterprise_id"' in body
    assert f'data-pick-value="{registry["maipu"].id}"' in body
    assert 'data-pick-label="enterprise_query"' in body and f'data-pick-text="{MAIPU}"' in body
    assert "href=" not in body


def test_suggest_keeps_the_callers_list_id_and_stays_empty_for_one_character(client, registry, clerk):
    body = client.get("/enterprises/suggest?q=迈&list=salon-picks").get_data(as_text=True)
    assert body.strip() == '<ul id="salon-picks" class="typeahead-list" data-typeahead-list aria-label="匹配的企业"></ul>'


def test_suggest_says_when_nothing_matches(client, registry, clerk):
    assert "未找到与“量子鲸鱼”相符的企业" in text_of(client.get("/enterprises/suggest?q=量子鲸鱼"))


def test_suggest_refuses_an_id_that_is_not_an_id(client, clerk):
    assert client.get('/enterprises/suggest?q=迈普&list="><b>').status_code == 400


def test_suggest_caps_the_list_at_ten(client, make_enterprise, clerk):
    for i in range(12):
        make_enterprise(f"成都云帆{i:02d}号科技有限公司")
    body = client.get("/enterprises/suggest?q=云帆").get_data(as_text=True)
    assert body.count("<li>") == 10


@pytest.mark.parametrize("role", [Role.auditor, Role.secadmin])
def test_the_security_admin_and_auditor_cannot_see_the_registry(client, login_as, registry, role):
    login_as(role)
    assert client.get("/enterprises?q=迈普").status_code == 403
    assert client.get("/enterprises/suggest?q=迈普").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/enterprises?q=迈普")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_stored_name_key_skips_opencc_only_where_it_would_change_nothing():
    from opencc import OpenCC

    from gaoxin.demo_data import enterprise_rows
    from gaoxin.registry_text import search_key
    from gaoxin.services.enterprises import derived_fields

    names = [r["name"] for r in enterprise_rows(300)]
    names += [OpenCC("s2t").convert(n) for n in names[:100]] + ["成都乾隆一目瞭然科技有限公司", "ＡＢＣ 邁普 Co.", ""]
    assert [derived_fields(n)["name_key"] for n in names] == [search_key(n) for n in names]


@pytest.mark.parametrize("query", ["迈普", "迈普通信", "mptx", "9151010020", "股份"])
def test_a_search_page_and_the_suggestions_are_one_statement_each(app, db, registry, query):
    """The rarest gram is chosen inside the statement that walks it (it was a statement of its own), and the
    rows are read with their building's name (it was a second, selectin statement)."""
    from gaoxin.services import enterprises

    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = enterprises.search_page(query)
        page_statements = len(statements)
        found = enterprises.suggest_rows(query, limit=10)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert MAIPU in [e.name for e in page.items] and MAIPU in [e.name for e in found]
    assert page_statements == 1 and len(statements) == 2


def test_suggestions_put_names_that_start_with_the_fragment_first_then_shorter_names(client, make_enterprise, clerk):
    make_enterprise("成都云帆智能科技股份有限公司")
    make_enterprise("云帆科技有限公司")
    make_enterprise("四川云帆物流有限公司")
    make_enterprise("云帆信息技术研究院有限公司")
    body = client.get("/enterprises/suggest?q=云帆").get_data(as_text=True)
    names = re.findall(r'<a href="/enterprises/\d+">([^<]+)<', body)
    assert names == ["云帆科技有限公司", "云帆信息技术研究院有限公司", "四川云帆物流有限公司", "成都云帆智能科技股份有限公司"]
