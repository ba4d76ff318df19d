"""Every kind of notification reads as a sentence in the reader's language, never as its key
(docs/product.md §9), with every parameter it names filled."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from portal.domain.notice_kinds import KIND_CATEGORY
from portal.presentation.notices import MESSAGES, describe

PARAMS = {
    "number": "SR-20261201-001",
    "title": "生产系统无法登录",
    "due": "2026-12-03T03:10:00+00:00",
    "day": "2026-12-31",
    "percent": 75,
    "measure": "记录需求",
    "sd": "SD-20261201-001",
    "fb": "FB-20261201-001",
    "signer": "李*",
    "unmet": "故障报告内容完整",
    "response": 5,
    "effect": 2,
    "attitude": 5,
    "mean": "4.0",
    "scope": "数据库",
    "priority": "P1",
    "handler": "张强",
    "can_start_at": "2026-12-01T02:00:00+00:00",
}


@pytest.mark.parametrize("kind", sorted(KIND_CATEGORY))
@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_every_kind_is_a_sentence_without_its_key(app, kind, locale):
    assert kind in MESSAGES
    with app.test_request_context(), force_locale(locale):
        text = describe(f"{kind}:7" if kind.startswith("measure_") else kind, PARAMS)
    assert text != f"{PARAMS['number']}: {kind}" and "%(" not in text
    if "_" in kind:
        assert kind not in text
    assert not re.search(r"\b(?:None|\d{4}-\d\d-\d\dT)", text), text
    chinese = bool(re.search(r"[\u4e00-\u9fff]", text.replace(PARAMS["title"], "")))
    if locale == "zh_CN":
        assert chinese, text


def test_the_failed_acceptance_reads_as_the_template_says(app):
    params = dict(PARAMS, unmet="故障报告内容完整")
    with app.test_request_context(), force_locale("en"):
        assert describe("acceptance_failed", params) == (
            "李*'s acceptance of SD-20261201-001 failed: 故障报告内容完整 not met."
        )
    with app.test_request_context(), force_locale("zh_CN"):
        assert describe("acceptance_failed", params) == (
            "李* 对 SD-20261201-001 的验收未通过:故障报告内容完整 未满足。"
        )
