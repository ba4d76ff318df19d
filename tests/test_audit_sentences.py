"""Audit events said as sentences in the reader's language (issue 12): never a raw action key
or JSON, contact data masked (portal/presentation/audit_sentences.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from portal.domain.lifecycle import TRANSITIONS
from portal.presentation.audit_sentences import Event, known, render, sentence

PORTAL = Path(__file__).resolve().parent.parent / "portal"


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def _sla_update(**kw) -> Event:
    return Event(
        action="organisation.updated",
        object_type="organisation",
        object_id="7",
        object_label="华东制造",
        actor_name="赵静",
        before={"sla_policy": "标准"},
        after={"sla_policy": "金牌"},
        **kw,
    )


def test_a_changed_field_reads_as_one_sentence_in_both_languages(ctx):
    assert sentence(_sla_update(), "en") == "赵静 changed 华东制造's SLA policy from 标准 to 金牌"
    assert sentence(_sla_update(), "zh_CN") == "赵静将华东制造的SLA 策略从“标准”改为“金牌”"


def test_several_changed_fields_are_listed_in_one_sentence(ctx):
    event = Event(
        "organisation.updated",
        "organisation",
        "7",
        "华东制造",
        "赵静",
        before={"sla_policy": "标准", "name": "华东制造厂", "code": "HD"},
        after={"sla_policy": "金牌", "name": "华东制造", "code": "HD"},
    )
    assert sentence(event, "en") == (
        "赵静 changed 华东制造: SLA policy from 标准 to 金牌, name from 华东制造厂 to 华东制造"
    )
    assert sentence(event, "zh_CN") == (
        "赵静修改了华东制造:SLA 策略从“标准”改为“金牌”,名称从“华东制造厂”改为“华东制造”"
    )
    # the details list every field given, the unchanged code too
    details = render(event, "en").details
    assert [(d.field, d.before, d.after) for d in details] == [
        ("SLA policy", "标准", "金牌"),
        ("name", "华东制造厂", "华东制造"),
        ("code", "HD", "HD"),
    ]


def test_a_boolean_change_says_yes_and_no(ctx):
    event = Event(
        "organisation.updated",
        "organisation",
        "7",
        "华东制造",
        "赵静",
        before={"colleagues_may_view": False},
        after={"colleagues_may_view": True},
    )
    assert sentence(event, "en") == "赵静 changed 华东制造's colleagues may view from No to Yes"
    assert sentence(event, "zh_CN") == "赵静将华东制造的同事可查看从“否”改为“是”"


def test_an_unknown_action_still_reads_as_a_sentence(ctx):
    event = Event(
        "organisation.merged",
        "organisation",
        "7",
        "ACME",
        "赵静",
        before={"into": {"id": 3}},
        after={"merge_reason_code": 5},
    )
    en = render(event, "en")
    assert en.sentence == "赵静 did «organisation merged» on organisation ACME"
    assert sentence(event, "zh_CN") == "赵静对客户“ACME”执行了“organisation merged”"
    shown = en.sentence + " ".join(f"{d.field} {d.before} {d.after}" for d in en.details)
    assert "{" not in shown and "organisation.merged" not in shown
    # an unknown field is its key in words
    assert ("merge reason code", "—", "5") in [(d.field, d.before, d.after) for d in en.details]


def test_an_unknown_object_type_and_verb_of_a_known_kind(ctx):
    assert sentence(Event("widget.created", "widget", "3", "Blue", "赵静"), "en") == (
        "赵静 created widget Blue"
    )
    assert sentence(Event("skill.deactivated", "skill", "3", "数据库", "赵静"), "zh_CN") == (
        "赵静停用了技能“数据库”"
    )


def test_lists_dates_and_vocabulary_are_said_as_values(ctx):
    event = Event(
        "staff.roles_changed",
        "staff",
        "4",
        "张工",
        "赵静",
        before={"roles": ["agent"]},
        after={"roles": ["agent", "dispatcher"]},
    )
    assert sentence(event, "en") == "赵静 changed 张工's roles from Agent to Agent, Dispatcher"
    assert sentence(event, "zh_CN") == "赵静将张工的角色从“客服专员”改为“客服专员、调度专员”"
    day = Event(
        "calendar.override_set",
        "calendar",
        "1",
        "默认日历",
        "赵静",
        after={"day": "2026-10-08", "kind": "workday", "note": "调休"},
    )
    assert sentence(day, "en") == (
        "赵静 marked 2026-10-08 as a make-up working day in calendar 默认日历"
    )


def test_request_events_name_the_request_and_the_system(ctx):
    event = Event(
        "sla.response_breach",
        "service_request",
        "SR-20260101-001",
        None,
        None,
        before={"escalation_level": 0},
        after={"escalation_level": 1, "due_at": "2026-01-01T02:00:00+00:00"},
        request_number="SR-20260101-001",
    )
    en = render(event, "en")
    assert en.sentence == (
        "System escalated service request SR-20260101-001 to level 1: "
        "the response target was missed"
    )
    # an instant is said in the desk's time zone
    assert ("due at", "—", "2026-01-01 10:00 CST") in [
        (d.field, d.before, d.after) for d in en.details
    ]
    attached = Event(
        "attachment.added",
        "attachment",
        "9",
        "日志.txt",
        "张工",
        after={"request_id": 3, "name": "日志.txt"},
        request_number="SR-20260101-001",
    )
    assert sentence(attached, "en") == (
        "张工 attached attachment 日志.txt of service request SR-20260101-001"
    )


def test_contact_data_is_masked_in_sentences_and_details(ctx):
    event = Event(
        "contact.updated",
        "contact",
        "12",
        "王小明",
        "王小明",
        before={"name": "王小明", "phone": "13912345678", "email": "wang@example.com"},
        after={"name": "王晓明", "phone": "13912340000", "email": "wxm@example.com"},
        actor_is_contact=True,
        object_is_contact=True,
    )
    shown = render(event, "en")
    text = shown.sentence + " ".join(f"{d.before} {d.after}" for d in shown.details)
    for raw in ("小明", "晓明", "13912345678", "13912340000", "wang@example.com", "wxm@"):
        assert raw not in text
    assert shown.actor == "王*"
    assert shown.sentence.startswith("王* changed 王*: name from 王* to 王*, phone from ****5678")
    # contact fields of any other object are masked too, free text has its PII redacted
    reveal = Event(
        "contact.revealed",
        "service_request",
        "SR-20260101-001",
        None,
        "李主管",
        after={"reason": "客户来电 13900001111 要求回拨", "contact_name": "王小明"},
        request_number="SR-20260101-001",
    )
    shown = render(reveal, "zh_CN")
    assert shown.sentence == "李主管查看了服务请求“SR-20260101-001”的联系人完整信息"
    text = " ".join(f"{d.before} {d.after}" for d in shown.details)
    assert "13900001111" not in text and "王小明" not in text and "王*" in text


# --- every action the code records has its sentence ----------------------------------------------

SLA_KINDS = [
    f"{clock}_{level}"
    for clock in ("response", "resolution")
    for level in ("warn", "breach", "escalation")
] + ["not_started", "feedback_invite", "feedback_reminder", "feedback_close", "measure_overdue"]
# the actions written from a variable: the prefix of the f-string and what may follow it
DYNAMIC = {"request.": list(TRANSITIONS), "sla.": SLA_KINDS}


def _recorded_actions() -> set[str]:
    """The action of every audit.record(...) call in portal/, read from the source."""
    found: set[str] = set()
    for path in PORTAL.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            t.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        # module-level tables of actions: NAME = {key: "object.verb", …}
        tables = {
            t.id: [v.value for v in node.value.values]
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Dict)
            and all(
                isinstance(v, ast.Constant) and isinstance(v.value, str) for v in node.value.values
            )
            for t in node.targets
            if isinstance(t, ast.Name)
        }

        def values(arg, path=path, constants=constants, tables=tables) -> list[str]:
            if isinstance(arg, ast.Constant):
                return [arg.value]
            if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
                assert arg.value.id in tables, f"{path}: actions {arg.value.id} not a table"
                return tables[arg.value.id]
            if isinstance(arg, ast.Name):
                assert arg.id in constants, f"{path}: action {arg.id} not a module constant"
                return [constants[arg.id]]
            if isinstance(arg, ast.IfExp):
                return values(arg.body) + values(arg.orelse)
            if isinstance(arg, ast.JoinedStr):
                prefix = arg.values[0].value if isinstance(arg.values[0], ast.Constant) else ""
                assert prefix in DYNAMIC, f"{path}: an action built as f'{prefix}…'"
                return [prefix + rest for rest in DYNAMIC[prefix]]
            raise AssertionError(f"{path}:{arg.lineno}: an action this test cannot read")

        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("audit", "audit_service")
            ):
                arg = node.args[3] if len(node.args) > 3 else None
                if arg is None:
                    arg = next(k.value for k in node.keywords if k.arg == "action")
                found.update(values(arg))
    return found


RECORDED = sorted(_recorded_actions())


def test_the_code_records_the_actions_this_test_knows_of():
    # the reading of the source works: the well-known ones are there
    assert {"request.submitted", "request.classify", "sla.response_breach", "record.purged"} <= set(
        RECORDED
    )
    assert {"contact.revealed", "calendar.changed", "account.logged_in", "export"} <= set(RECORDED)


@pytest.mark.parametrize("action", RECORDED)
def test_every_recorded_action_has_a_sentence_of_its_own(ctx, action):
    assert known(action), f"{action} has no verb"
    event = Event(
        action,
        "service_request",
        "SR-20260101-001",
        None,
        "赵静",
        before={"status": "submitted"},
        after={
            "status": "pending_assignment",
            "day": "2026-10-01",
            "kind": "holiday",
            "year": 2026,
        },
        request_number="SR-20260101-001",
    )
    for locale in ("en", "zh_CN"):
        said = sentence(event, locale)
        assert ("." not in action or action not in said) and "«" not in said
        assert "执行了" not in said
        assert "{" not in said and "%(" not in said and "赵静" in said
        assert not re.search(r"\b[a-z]+[._][a-z_]+\b", said), said  # no key left raw
