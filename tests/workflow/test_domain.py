"""The pure rules: priority suggestion, candidate ranking, record quality."""

from __future__ import annotations

import pytest

from portal.domain import record_quality
from portal.domain.assignment import Candidate, SkillLevel, match_strength, rank
from portal.domain.classification import suggest_priority

# --- classification ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("impact", "urgency", "importance", "expected"),
    [
        ("core", "high", "high", "P1"),
        ("core", "medium", "low", "P1"),
        ("core", "low", "low", "P2"),
        ("partial", "medium", "medium", "P2"),
        ("partial", "high", "high", "P1"),
        ("partial", "high", "low", "P2"),
        ("partial", "low", "low", "P3"),
        ("none", "medium", "high", "P3"),
        ("none", "high", "high", "P2"),
        ("none", "low", "low", "P3"),
    ],
)
def test_priority_follows_impact_and_moves_one_step_with_urgency_and_importance(
    impact, urgency, importance, expected
):
    assert suggest_priority(impact, urgency, importance) == expected


def test_unknown_levels_are_refused():
    with pytest.raises(ValueError):
        suggest_priority("everything", "high", "high")


# --- assignment ranking ------------------------------------------------------------------------

DB = SkillLevel("fault-database", "Database faults", "fault", "database", 4)
LOGIN = SkillLevel("fault-login", "Login faults", "fault", "login", 5)
ANY_FAULT = SkillLevel("fault-general", "Faults", "fault", None, 3)


def test_skill_match_needs_the_type_and_a_compatible_category():
    assert match_strength(DB, "fault", "database") == 2
    assert match_strength(DB, "fault", "Database ") == 2
    assert match_strength(LOGIN, "fault", "database") == 0
    assert match_strength(DB, "consultation", "database") == 0
    assert match_strength(ANY_FAULT, "fault", "database") == 1
    assert match_strength(DB, "fault", None) == 1


def test_ranking_prefers_available_then_matching_skill_then_level_then_low_load():
    people = [
        Candidate(1, "Busy expert", True, 7, (DB,)),
        Candidate(2, "On leave expert", False, 0, (SkillLevel("x", "DB", "fault", "database", 5),)),
        Candidate(3, "Login expert", True, 0, (LOGIN,)),
        Candidate(4, "Generalist", True, 1, (ANY_FAULT,)),
        Candidate(5, "Idle expert", True, 2, (DB,)),
        Candidate(6, "Newcomer", True, 0, ()),
    ]
    ranked = rank(people, "fault", "database")
    assert [r.candidate.name for r in ranked] == [
        "Idle expert",  # exact skill, level 4, 2 open
        "Busy expert",  # exact skill, level 4, 7 open
        "Generalist",  # type only
        "Login expert",  # another category: no match, but available and idle
        "Newcomer",
        "On leave expert",  # unavailable comes last whatever the skill
    ]
    assert ranked[0].best_skill == DB and ranked[0].level == 4
    assert ranked[3].best_skill is None and ranked[3].match == 0


# --- record quality ----------------------------------------------------------------------------

PHRASES = [p for group in record_quality.DEFAULT_PHRASES.values() for p in group]

VAGUE_ZH = [
    "已处理",
    "已解决",
    "处理完成",
    "搞定",
    "完成",
    "好了",
    "问题已解决。",
    "已经处理了",
    "处理完毕!",
    "已修复",
    "没问题了",
    "全部搞定啦",
]
VAGUE_EN = [
    "ok",
    "OK.",
    "done",
    "Done!",
    "fixed",
    "Issue fixed.",
    "resolved",
    "handled",
    "solved",
    "It works now",
    "All good",
    "Problem has been resolved",
    "completed",
]
CONCRETE = [
    "接收工单,远程登录系统排查",
    "定位为数据库连接超时",
    "协同运维王工重启数据库服务",
    "系统恢复正常",
    "数据库连接已恢复,用户可正常登录",
    "Restarted the database service; users can log in again.",
    "Raised the connection pool limit from 50 to 200 and verified the login page loads.",
    "Replaced the POS printer driver with version 3.2; receipts print again.",
]


@pytest.mark.parametrize("text", VAGUE_ZH + VAGUE_EN)
def test_vague_records_are_refused(text):
    problem = record_quality.check(text, PHRASES)
    assert problem is not None and problem.code == "vague"


@pytest.mark.parametrize("text", ["重启服务", "看了日志", "Restarted nginx", "Checked logs", "  "])
def test_records_too_short_to_reproduce_are_refused(text):
    problem = record_quality.check(text, PHRASES)
    assert problem is not None and problem.code in ("too-short", "empty")


@pytest.mark.parametrize("text", CONCRETE)
def test_concrete_records_are_accepted(text):
    assert record_quality.check(text, PHRASES) is None


def test_a_latin_phrase_only_matches_whole_words():
    # "ok" inside "token", "done" inside "abandoned": not vague
    assert record_quality.check("Refreshed the expired token for the sync job", PHRASES) is None
    assert record_quality.check("Removed the abandoned lock file on the server", PHRASES) is None


def test_the_lists_hold_at_least_ten_phrases_in_each_language():
    assert len(record_quality.DEFAULT_PHRASES["zh"]) >= 10
    assert len(record_quality.DEFAULT_PHRASES["en"]) >= 10
