"""The vague-phrase list (模糊表述) at /staff/admin/vague-phrases: built-in and own phrases per
language, add and remove (a built-in phrase hidden by a row, and put back), the "test a sentence"
box, audited; supervisors read it; the record-quality check honours the list."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, VaguePhrase
from portal.services import record_quality

PAGE = "/staff/admin/vague-phrases"


@pytest.fixture
def admin(make_client, factory):
    client = make_client()
    client.login(factory.staff("admin"))
    return client


def _list(body: str, locale: str) -> str:
    m = re.search(
        rf'<section class="panel vague-list" data-locale="{locale}".*?</section>', body, re.S
    )
    assert m, locale
    return m.group(0)


def _row(section: str, phrase: str) -> str:
    m = re.search(rf'<tr class="[^"]*" data-phrase="{re.escape(phrase)}">.*?</tr>', section, re.S)
    return m.group(0) if m else ""


def _count(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(VaguePhrase))


def test_the_page_lists_the_built_in_phrases_of_both_languages(admin):
    body = admin.get(PAGE).get_data(as_text=True)
    zh, en = _list(body, "zh_CN"), _list(body, "en")
    assert "built-in" in _row(zh, "已处理") and "Remove" in _row(zh, "已处理")
    assert "built-in" in _row(en, "done")
    assert not _row(zh, "done") and not _row(en, "已处理")


def test_an_added_phrase_is_listed_audited_and_refused_in_records(admin, db_session):
    sentence = "没有发现异常。"
    assert record_quality.check_text(db_session, sentence, "en") is None
    resp = admin.post(PAGE, data={"locale": "zh_CN", "phrase": " 没有发现异常 "})
    assert resp.status_code == 302
    body = admin.get(PAGE).get_data(as_text=True)
    assert "added by an admin" in _row(_list(body, "zh_CN"), "没有发现异常")
    assert "“没有发现异常” is on the list." in body
    assert "没有发现异常" in record_quality.check_text(db_session, sentence, "en")
    entry = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "vague_phrase.added")
    ).one()
    assert entry.after == {"phrase": "没有发现异常", "language": "zh_CN"}
    # and removed again: the row goes
    resp = admin.post(f"{PAGE}/remove", data={"locale": "zh_CN", "phrase": "没有发现异常"})
    assert resp.status_code == 302
    assert record_quality.check_text(db_session, sentence, "en") is None
    assert _count(db_session) == 0


def test_a_removed_built_in_phrase_is_hidden_by_a_row_and_can_be_put_back(admin, db_session):
    vague_only_by_it = "checked all the issues now"
    assert record_quality.check_text(db_session, vague_only_by_it, "en") is not None
    resp = admin.post(f"{PAGE}/remove", data={"locale": "en", "phrase": "checked"})
    assert resp.status_code == 302
    row = db_session.scalars(select(VaguePhrase)).one()
    assert (row.phrase, row.locale, row.removed) == ("checked", "en", True)
    assert "checked" not in record_quality.phrases(db_session)
    assert record_quality.check_text(db_session, vague_only_by_it, "en") is None
    section = _list(admin.get(PAGE).get_data(as_text=True), "en")
    assert "removed" in _row(section, "checked") and "Put back" in _row(section, "checked")
    assert db_session.scalars(
        select(AuditEvent.before).where(AuditEvent.action == "vague_phrase.removed")
    ).all() == [{"phrase": "checked", "language": "en"}]

    assert admin.post(PAGE, data={"locale": "en", "phrase": "checked"}).status_code == 302
    assert _count(db_session) == 0
    assert record_quality.check_text(db_session, vague_only_by_it, "en") is not None


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"locale": "zh_CN", "phrase": ""}, "phrase", "Write the phrase."),
        ({"locale": "zh_CN", "phrase": "已处理"}, "phrase", "This phrase is on the list already."),
        ({"locale": "en", "phrase": "Done"}, "phrase", "This phrase is on the list already."),
        ({"locale": "en", "phrase": "x" * 61}, "phrase", "At most 60 characters."),
        ({"locale": "fr", "phrase": "fini"}, "locale", "Not a valid choice."),
        ({"locale": "en", "phrase": "!!!"}, "phrase", "Write the phrase."),
    ],
)
def test_bad_input_comes_back_with_the_error_at_the_field_and_saves_nothing(
    admin, db_session, data, field, message
):
    resp = admin.post(PAGE, data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert re.search(rf'id="{field}-error">{re.escape(message)}', body), body[:2000]
    if data["phrase"] and field == "phrase":
        assert f'value="{data["phrase"]}"' in body
    assert _count(db_session) == 0


def test_the_sentence_box_says_whether_and_why_a_sentence_is_too_vague(admin):
    body = admin.get(PAGE, query_string={"sentence": "已处理"}).get_data(as_text=True)
    assert "Refused as too vague." in body
    assert "It contains “已处理” and nothing concrete besides." in body
    assert "“已处理” alone does not say what was done." in body
    body = admin.get(PAGE, query_string={"sentence": "重启"}).get_data(as_text=True)
    assert "It is too short." in body
    body = admin.get(PAGE, query_string={"sentence": "重启了数据库服务,用户可以重新登录"}).get_data(
        as_text=True
    )
    assert "Accepted: this says concretely what was done." in body
    assert 'value="重启了数据库服务,用户可以重新登录"' in body


def test_the_page_in_chinese(make_client, factory):
    client = make_client()
    client.login(factory.staff("admin", locale="zh_CN"))
    body = client.get(PAGE, query_string={"sentence": "搞定"}).get_data(as_text=True)
    assert "模糊表述" in body and "中文" in body and "英文" in body
    assert "因表述模糊被拒绝。" in body and "仅写“搞定”未说明具体做了什么。" in body


def test_supervisors_read_the_list_and_try_sentences_but_change_nothing(
    make_client, factory, db_session
):
    client = make_client()
    client.login(factory.staff("supervisor"))
    body = client.get(PAGE, query_string={"sentence": "done"}).get_data(as_text=True)
    assert "read-only" in body and "Refused as too vague." in body
    assert "Remove" not in body and "Add a phrase" not in body
    assert client.post(PAGE, data={"locale": "en", "phrase": "sorted now"}).status_code == 403
    assert client.post(f"{PAGE}/remove", data={"locale": "en", "phrase": "done"}).status_code == 403
    assert _count(db_session) == 0
    engineer = make_client()
    engineer.login(factory.staff("engineer"))
    assert engineer.get(PAGE).status_code == 403


def test_the_page_writes_nothing(app, admin):
    from tests.test_get_writes import recorded_writes

    with recorded_writes(app.extensions["portal_db"].engine) as writes:
        assert admin.get(PAGE, query_string={"sentence": "done"}).status_code == 200
    assert writes == []


def test_removing_a_phrase_not_on_the_list_says_so(admin, db_session):
    resp = admin.post(f"{PAGE}/remove", data={"locale": "en", "phrase": "never listed"})
    assert resp.status_code == 422
    assert "This phrase is not on the list." in resp.get_data(as_text=True)
    assert _count(db_session) == 0


def test_a_legacy_row_in_zh_is_read_as_chinese(db_session):
    """Rows written before the page (locale "zh") count as Chinese."""
    db_session.add(VaguePhrase(phrase="搞定", locale="zh", removed=True))
    db_session.flush()
    assert "搞定" not in record_quality.phrases(db_session)
    entries = record_quality.phrase_list(db_session)["zh_CN"]
    assert [e.removed for e in entries if e.phrase == "搞定"] == [True]
