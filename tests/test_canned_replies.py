"""常用语 (issue 12, point 8): a department's lead keeps its phrases; a handler inserts one into a reply or a
note, with htmx (only the text field comes back) and without (the page comes back with everything kept)."""
import pytest
from sqlalchemy import select

from gaoxin.models import Phrase, Role, UnitKind
from gaoxin.services import appeals as service
from tests.conftest import log_in, text_of


@pytest.fixture
def dept(make_unit, make_user, make_category):
    unit = make_unit(UnitKind.department, name="科技人才局")
    return {
        "unit": unit,
        "lead": make_user(Role.dept_lead, unit=unit, name="黄志强"),
        "handler": make_user(Role.handler, unit=unit, name="刘洋"),
        "category": make_category(name="人才", lead_unit=unit),
    }


def add_phrase(db, unit, text, position=0):
    phrase = Phrase(unit_id=unit.id, text=text, position=position)
    db.session.add(phrase)
    db.session.commit()
    return phrase


def test_the_lead_adds_edits_and_deletes_the_departments_phrases(client, db, dept):
    log_in(client, dept["lead"].username)
    assert "常用语" in text_of(client.get("/"))
    added = client.post("/settings/phrases", data={"text": "已电话联系企业，说明了办理流程。", "position": 2})
    assert added.status_code == 303
    phrase = db.session.scalar(select(Phrase))
    assert phrase.unit_id == dept["unit"].id and phrase.position == 2
    assert "已电话联系企业，说明了办理流程。" in text_of(client.get("/settings/phrases"))
    edited = client.post(f"/settings/phrases/{phrase.id}/edit", data={"text": "已电话联系企业。", "position": 1})
    assert edited.status_code == 303
    db.session.refresh(phrase)
    assert phrase.text == "已电话联系企业。"
    assert client.post(f"/settings/phrases/{phrase.id}/delete").status_code == 303
    assert db.session.scalar(select(Phrase)) is None


def test_an_empty_or_duplicate_phrase_is_refused_beside_the_field(client, db, dept):
    add_phrase(db, dept["unit"], "已协调解决。")
    log_in(client, dept["lead"].username)
    empty = client.post("/settings/phrases", data={"text": "  ", "position": 0})
    assert empty.status_code == 422 and "请填写常用语内容" in text_of(empty)
    duplicate = client.post("/settings/phrases", data={"text": "已协调解决。", "position": 5})
    assert duplicate.status_code == 422 and "本部门已有相同的常用语" in text_of(duplicate)
    assert len(db.session.scalars(select(Phrase)).all()) == 1


@pytest.mark.parametrize("role", [Role.handler, Role.clerk, Role.dispatcher, Role.sysadmin])
def test_only_a_department_lead_manages_phrases(client, login_as, role):
    login_as(role)
    assert client.get("/settings/phrases").status_code == 403


def test_a_lead_cannot_touch_another_departments_phrase(client, db, dept, make_user, make_unit):
    phrase = add_phrase(db, dept["unit"], "已协调解决。")
    log_in(client, make_user(Role.dept_lead, unit=make_unit(UnitKind.department)).username)
    assert client.post(f"/settings/phrases/{phrase.id}/delete").status_code == 403
    assert client.post(f"/settings/phrases/{phrase.id}/edit", data={"text": "改掉"}).status_code == 403
    assert db.session.get(Phrase, phrase.id).text == "已协调解决。"


@pytest.fixture
def signed(db, dept, make_appeal):
    appeal = make_appeal(category=dept["category"])
    service.sign(appeal, dept["handler"])
    db.session.commit()
    return appeal


def test_without_javascript_a_phrase_is_added_to_the_reply_typed_so_far(client, db, dept, signed):
    phrase = add_phrase(db, dept["unit"], "经核实，贵企业符合申请条件。")
    log_in(client, dept["handler"].username)
    response = client.post(f"/appeals/{signed.id}/phrase", data={
        "into": "reply", "phrase": phrase.id, "outcome": "resolved", "text": "您好：", "version": signed.version})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "您好：\n经核实，贵企业符合申请条件。</textarea>" in html
    assert '<input checked id="reply-outcome-0" name="outcome" required type="radio" value="resolved">' in html
    db.session.refresh(signed)
    assert signed.state == "in_progress" and signed.reply_text is None


def test_with_htmx_the_phrase_comes_back_in_the_note_field(client, db, dept, signed):
    phrase = add_phrase(db, dept["unit"], "已电话联系企业。")
    log_in(client, dept["handler"].username)
    page = client.get(f"/appeals/{signed.id}").get_data(as_text=True)
    assert 'hx-select="#note-text-field"' in page and "已电话联系企业。" in page
    response = client.post(f"/appeals/{signed.id}/phrase", data={"into": "note", "phrase": phrase.id, "text": ""},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="note-text-field"' in html
    assert "\n已电话联系企业。</textarea>" in html


def test_another_departments_phrase_is_not_inserted(client, db, dept, signed, make_unit):
    foreign = add_phrase(db, make_unit(UnitKind.department), "别的部门的话。")
    log_in(client, dept["handler"].username)
    response = client.post(f"/appeals/{signed.id}/phrase", data={"into": "note", "phrase": foreign.id, "text": "原文"})
    assert "别的部门的话。" not in response.get_data(as_text=True) and "请先选择一条常用语" in text_of(response)
