"""The pure rules of delivery, acceptance and feedback."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from portal.domain import delivery as rules
from portal.domain import feedback as fb_rules
from tests.delivery.helpers import PNG_1X1, PNG_DATA_URL

ITEMS = ["故障原因分析报告", "系统恢复操作记录", "后续维护建议"]
CRITERIA = ["系统登录无异常", "故障报告内容完整"]


def test_content_hash_is_sha256_over_canonical_content():
    h = rules.content_hash("生产系统故障修复", ITEMS, CRITERIA)
    assert len(h) == 64 and int(h, 16) >= 0
    assert h == rules.content_hash("生产系统故障修复", list(ITEMS), tuple(CRITERIA))


@pytest.mark.parametrize(
    "change",
    [
        lambda a: {**a, "service_item": "生产系统故障修复 "},
        lambda a: {**a, "items": a["items"][::-1]},
        lambda a: {**a, "items": [*a["items"][:2], "后续维护建议。"]},
        lambda a: {**a, "criteria": ["系统登录无异常"]},
        lambda a: {**a, "demo_note": "演示了登录"},
        lambda a: {**a, "files": ["0" * 64]},
    ],
)
def test_any_change_of_content_changes_the_hash(change):
    base = {"service_item": "生产系统故障修复", "items": ITEMS, "criteria": CRITERIA}
    assert rules.content_hash(**change(base)) != rules.content_hash(**base)


def test_integrity_tells_changes_after_delivery_and_after_signing():
    ok = rules.verify("a" * 64, "a" * 64, {"customer": "a" * 64})
    assert ok.intact and ok.signature_matches("customer")
    changed = rules.verify("b" * 64, "a" * 64, {"customer": "a" * 64})
    assert changed.changed_since_delivery and changed.changed_after_signing
    assert not changed.intact and not changed.signature_matches("customer")
    unsigned = rules.verify("b" * 64, "a" * 64, {})
    assert unsigned.changed_since_delivery and not unsigned.changed_after_signing


def test_a_png_data_url_is_accepted_and_nothing_drawn_is_none():
    assert rules.check_signature_image(PNG_DATA_URL) == PNG_DATA_URL
    assert rules.check_signature_image("") is None
    assert rules.check_signature_image(None) is None


@pytest.mark.parametrize(
    "value, code",
    [
        (
            "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff" + b"0" * 20).decode(),
            "format",
        ),
        ("data:image/png;base64,%%%notbase64", "format"),
        ("data:image/png;base64," + base64.b64encode(b"<svg onload=alert(1)>").decode(), "format"),
        ("javascript:alert(1)", "format"),
        (
            "data:image/png;base64," + base64.b64encode(PNG_1X1 + b"\x00" * (201 * 1024)).decode(),
            "size",
        ),
    ],
)
def test_a_signature_that_is_not_a_small_png_is_refused(value, code):
    with pytest.raises(rules.SignatureImageError) as err:
        rules.check_signature_image(value)
    assert err.value.code == code


def test_split_lines_drops_numbering_and_blank_lines():
    assert rules.split_lines("1.故障原因分析报告\n\n2、系统恢复操作记录\n- 后续维护建议\n") == ITEMS
    assert rules.split_lines("2024 年度巡检") == ["2024 年度巡检"]


CRIT = [(11, "系统登录无异常"), (12, "故障报告内容完整")]


def test_pass_needs_every_criterion_met():
    decision = rules.decide("pass", CRIT, {11, 12}, "", "")
    assert decision.result == "pass" and decision.met == {11: True, 12: True}
    with pytest.raises(rules.DecisionError) as err:
        rules.decide("pass", CRIT, {11}, "", "")
    assert err.value.problems == {"criteria": "unmet-on-pass"}


def test_fail_needs_unmet_items_and_rectification():
    with pytest.raises(rules.DecisionError) as err:
        rules.decide("fail", CRIT, {11, 12}, "", "")
    assert err.value.problems == {"unmet_items": "missing", "rectification": "missing"}
    decision = rules.decide(
        "fail", CRIT, {11}, "报告缺少根因时间线", "补充数据库连接池耗尽的时间线"
    )
    assert decision.result == "fail"
    assert decision.met == {11: True, 12: False}
    assert decision.unmet_items == "1. 故障报告内容完整\n报告缺少根因时间线"
    assert decision.rectification == "补充数据库连接池耗尽的时间线"


def test_no_decision_is_refused():
    with pytest.raises(rules.DecisionError) as err:
        rules.decide(None, CRIT, set(), "", "")
    assert "result" in err.value.problems


@pytest.mark.parametrize(
    "scores, mean",
    [
        ((5, 4, 5), "4.7"),
        ((5, 5, 5), "5.0"),
        ((1, 1, 2), "1.3"),
        ((2, 2, 1), "1.7"),
        ((3, 4, 4), "3.7"),
    ],
)
def test_mean_score_to_one_decimal(scores, mean):
    assert fb_rules.mean_score(*scores) == Decimal(mean)


def test_scores_must_be_one_to_five():
    assert fb_rules.check_scores({"response": 5, "effect": 4, "attitude": 5}) == {
        "response": 5,
        "effect": 4,
        "attitude": 5,
    }
    with pytest.raises(fb_rules.FeedbackError) as err:
        fb_rules.check_scores({"response": 0, "effect": None, "attitude": 6})
    assert err.value.problems == {"response": "range", "effect": "missing", "attitude": "range"}


def test_a_measure_needs_owner_and_deadline_not_in_the_past():
    today = date(2024, 10, 2)
    draft = fb_rules.check_measure(
        " 记录需求,纳入下一季度产品优化计划 ", 7, date(2024, 12, 31), today
    )
    assert draft.measure == "记录需求,纳入下一季度产品优化计划" and draft.owner_id == 7
    with pytest.raises(fb_rules.FeedbackError) as err:
        fb_rules.check_measure("", None, None, today)
    assert err.value.problems == {"measure": "missing", "owner": "missing", "deadline": "missing"}
    with pytest.raises(fb_rules.FeedbackError) as err:
        fb_rules.check_measure("x", 1, date(2024, 10, 1), today)
    assert err.value.problems == {"deadline": "past"}


def test_overdue_and_feedback_window():
    today = date(2024, 10, 10)
    assert fb_rules.is_overdue("open", date(2024, 10, 9), today)
    assert not fb_rules.is_overdue("done", date(2024, 10, 9), today)
    assert not fb_rules.is_overdue("in_progress", date(2024, 10, 10), today)
    done = datetime(2024, 10, 1, 3, 30, tzinfo=UTC)
    window = timedelta(days=3)
    assert not fb_rules.feedback_window_passed(done, done + window - timedelta(seconds=1), window)
    assert fb_rules.feedback_window_passed(done, done + window, window)
    assert not fb_rules.feedback_window_passed(None, done + window, window)
