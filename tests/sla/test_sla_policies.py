"""Named, versioned SLA policies (portal/services/sla_policies.py): a request is measured against
the version of its organisation's policy in force when it was submitted; a change applies to
requests submitted afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, SlaPolicy, SlaPolicyVersion
from portal.services import calendars, sla, sla_policies, timers
from portal.services import lifecycle as lifecycle_service
from portal.services.audit import SYSTEM
from portal.services.sla_policies import PolicyError, Targets

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


def _with(targets: list[Targets], priority: str, **changes) -> list[Targets]:
    return [Targets(**{**t.__dict__, **changes}) if t.priority == priority else t for t in targets]


@pytest.fixture
def builtin(db_session):
    return sla_policies.builtin_policy(db_session)


def _gold(db_session, now=None) -> SlaPolicy:
    """ "金牌": P1 respond within 1 h, resolve within 2 h (24×7); P2 and P3 as the built-in."""
    now = now or at(2026, 11, 1, 9)
    gold = sla_policies.create(db_session, SYSTEM, now, "金牌", None)
    targets = _with(
        sla_policies.current_targets(db_session, gold), "P1", respond_amount=1, resolve_amount=2
    )
    sla_policies.update_targets(db_session, SYSTEM, now, gold, targets)
    return gold


def test_a_gold_policy_gives_a_p1_request_its_response_due_an_hour_after_submission(
    factory, db_session
):
    org = factory.organisation()
    gold = _gold(db_session)
    assert sla_policies.set_organisation_policy(db_session, SYSTEM, at(2026, 11, 1, 9), org, gold)
    submitted = at(2026, 11, 28, 10)  # a Saturday: P1 runs around the clock
    sr = factory.request(factory.customer(org), urgency="P1", now=submitted)
    assert sr.response_due_at == submitted + timedelta(hours=1)
    assert sr.resolution_due_at == submitted + timedelta(hours=2)
    assert sr.sla_policy_version_id == sla_policies.current_version(db_session, gold.id).id
    # another organisation stays on the built-in policy (2 h / 4 h)
    other = factory.request(factory.customer(factory.organisation()), urgency="P1", now=submitted)
    assert other.response_due_at == submitted + timedelta(hours=2)


def test_a_change_applies_to_requests_submitted_afterwards(factory, db_session, builtin):
    contact = factory.customer(factory.organisation())
    before = factory.request(contact, urgency="P2", now=at(2026, 11, 2, 10))
    assert before.response_due_at == at(2026, 11, 2, 14)  # P2: 4 h

    targets = sla_policies.current_targets(db_session, builtin)
    targets = _with(targets, "P1", respond_amount=1, resolve_amount=2)
    targets = _with(targets, "P2", respond_amount=3, resolve_amount=12)
    version = sla_policies.update_targets(db_session, SYSTEM, at(2026, 11, 2, 11), builtin, targets)
    assert version.number == 2

    after = factory.request(contact, urgency="P2", now=at(2026, 11, 2, 12))
    assert after.response_due_at == at(2026, 11, 2, 15)  # the new P2: 3 h
    assert after.resolution_due_at == at(2026, 11, 3, 0)
    # the earlier request keeps its version's targets, also when recomputed
    assert before.sla_policy_version_id != after.sla_policy_version_id
    sla.recompute(db_session, before, at(2026, 11, 2, 13))
    assert before.response_due_at == at(2026, 11, 2, 14)

    # reclassified P2 → P1: each uses its own version's P1
    for sr in (before, after):
        sr.priority = "P2"
        lifecycle_service.apply(
            db_session, SYSTEM, {"supervisor"}, sr, "classify", at(2026, 11, 2, 13)
        )
        sr.priority = "P1"
        db_session.flush()
    assert (before.response_due_at, before.resolution_due_at) == (
        at(2026, 11, 2, 12),
        at(2026, 11, 2, 14),
    )  # the old P1: 2 h / 4 h from submission
    assert (after.response_due_at, after.resolution_due_at) == (
        at(2026, 11, 2, 13),
        at(2026, 11, 2, 14),
    )  # the new P1: 1 h / 2 h
    assert sla.policy_for(db_session, before).respond_amount == 2
    assert sla.policy_for(db_session, after).respond_amount == 1


def test_the_timers_use_the_requests_version(factory, db_session, builtin):
    contact = factory.customer(factory.organisation())
    old = factory.request(contact, urgency="P2", now=at(2026, 11, 2, 10))
    targets = _with(
        sla_policies.current_targets(db_session, builtin), "P2", warn_percent=50,
        escalate_after_minutes=15,
    )  # fmt: skip
    sla_policies.update_targets(db_session, SYSTEM, at(2026, 11, 2, 11), builtin, targets)
    new = factory.request(contact, urgency="P2", now=at(2026, 11, 2, 12))
    policies = timers.load_policies(db_session)
    assert timers.policy_of(policies, old) == timers.Policy(75, 60)
    assert timers.policy_of(policies, new) == timers.Policy(50, 15)
    # the warning instants follow each version's percentage (4 h and 24 h of P2)
    assert old.response_warn_at == at(2026, 11, 2, 13)  # 75 % of 4 h
    assert new.response_warn_at == at(2026, 11, 2, 14)  # 50 % of 4 h


def test_a_calendar_change_moves_a_request_on_its_own_versions_targets(
    factory, db_session, builtin
):
    """The calendar-follow batch reads the targets of each request's version."""
    contact = factory.customer(factory.organisation())
    sr = factory.request(contact, urgency="P3", now=at(2026, 11, 2, 10))  # a Monday
    assert sr.response_due_at == at(2026, 11, 3, 10)  # 8 working hours
    targets = _with(sla_policies.current_targets(db_session, builtin), "P3", respond_amount=4)
    sla_policies.update_targets(db_session, SYSTEM, at(2026, 11, 2, 11), builtin, targets)
    china = calendars.default_calendar(db_session)
    calendars.set_override(
        db_session, SYSTEM, at(2026, 11, 2, 12), china.id, date(2026, 11, 3), "holiday", "move"
    )
    assert sr.response_due_at == at(2026, 11, 4, 10)  # still 8 working hours, not 4


def test_open_requests_on_older_versions_are_counted(factory, db_session, builtin):
    contact = factory.customer(factory.organisation())
    first = [factory.request(contact, now=at(2026, 11, 2, 10)) for _ in range(3)]
    assert sla_policies.open_requests_on_older_versions(db_session, builtin) == 0
    v1 = sla_policies.current_version(db_session, builtin.id)
    assert sla_policies.open_requests_on_version(db_session, v1.id) >= 3
    on_v1 = sla_policies.open_requests_on_version(db_session, v1.id)

    targets = _with(sla_policies.current_targets(db_session, builtin), "P1", respond_amount=1)
    sla_policies.update_targets(db_session, SYSTEM, at(2026, 11, 2, 11), builtin, targets)
    factory.request(contact, now=at(2026, 11, 2, 12))
    assert sla_policies.open_requests_on_older_versions(db_session, builtin) == on_v1
    first[0].status = "cancelled"  # a finished request is not counted
    db_session.flush()
    assert sla_policies.open_requests_on_older_versions(db_session, builtin) == on_v1 - 1
    # another policy's requests are not counted
    assert sla_policies.open_requests_on_older_versions(db_session, _gold(db_session)) == 0


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"respond_amount": 0}, "P1-respond_amount", "positive"),
        ({"resolve_amount": -4}, "P1-resolve_amount", "positive"),
        ({"respond_amount": 10**12}, "P1-respond_amount", "positive"),
        ({"warn_percent": 100}, "P1-warn_percent", "percent"),
        ({"warn_percent": 0}, "P1-warn_percent", "percent"),
        ({"escalate_after_minutes": 0}, "P1-escalate_after_minutes", "minutes"),
        ({"respond_unit": "fortnights"}, "P1-respond_unit", "unit"),
    ],
)
def test_bad_targets_are_refused_and_nothing_is_written(db_session, builtin, change, field, code):
    versions = db_session.scalar(select(func.count()).select_from(SlaPolicyVersion))
    targets = _with(sla_policies.current_targets(db_session, builtin), "P1", **change)
    with pytest.raises(PolicyError) as refused:
        sla_policies.update_targets(db_session, SYSTEM, at(2026, 11, 2, 11), builtin, targets)
    assert refused.value.problems == {field: code}
    assert db_session.scalar(select(func.count()).select_from(SlaPolicyVersion)) == versions


def test_unchanged_targets_make_no_version(db_session, builtin):
    same = sla_policies.current_targets(db_session, builtin)
    assert sla_policies.update_targets(db_session, SYSTEM, at(2026, 11, 2), builtin, same) is None
    assert sla_policies.current_version(db_session, builtin.id).number == 1


@pytest.mark.parametrize("name", ["金牌", " 金牌 ", "标准", "Standard", "standard", ""])
def test_a_duplicate_or_empty_name_is_refused(db_session, name):
    _gold(db_session)
    with pytest.raises(PolicyError) as refused:
        sla_policies.create(db_session, SYSTEM, at(2026, 11, 2), name, None)
    assert refused.value.problems == {"name": "empty" if not name else "duplicate"}


def test_the_update_is_audited_with_the_changed_targets_as_text(app, db_session, builtin):
    targets = _with(sla_policies.current_targets(db_session, builtin), "P1", respond_amount=1)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        sla_policies.update_targets(db_session, SYSTEM, at(2026, 11, 2), builtin, targets)
    entry = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sla_policy.updated")
    ).one()
    assert entry.object_type == "sla_policy" and entry.object_id == str(builtin.id)
    assert entry.before == {"name": "标准", "version": 1, "P1 response": "2 h"}
    assert entry.after == {
        "name": "标准",
        "version": 2,
        "P1 response": "1 h",
        "changes": "P1 response 2 h → 1 h",
    }


def test_an_organisations_policy_change_is_audited_by_name(factory, db_session, builtin):
    org = factory.organisation()
    gold = _gold(db_session)
    assert sla_policies.set_organisation_policy(db_session, SYSTEM, at(2026, 11, 3), org, gold)
    assert not sla_policies.set_organisation_policy(db_session, SYSTEM, at(2026, 11, 3), org, gold)
    assert sla_policies.set_organisation_policy(db_session, SYSTEM, at(2026, 11, 4), org, builtin)
    assert org.sla_policy_id is None  # the built-in one is stored as NULL
    entries = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "organisation.updated", AuditEvent.object_id == str(org.id))
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.before, e.after) for e in entries] == [
        ({"sla_policy": "标准"}, {"sla_policy": "金牌"}),
        ({"sla_policy": "金牌"}, {"sla_policy": "标准"}),
    ]


def test_deactivation_is_refused_for_the_builtin_and_a_policy_in_use(
    app, factory, db_session, builtin
):
    with pytest.raises(PolicyError, match="builtin"):
        sla_policies.deactivate(db_session, SYSTEM, at(2026, 11, 3), builtin)
    gold = _gold(db_session)
    org = factory.organisation()
    sla_policies.set_organisation_policy(db_session, SYSTEM, at(2026, 11, 3), org, gold)
    with pytest.raises(PolicyError, match="in-use"):
        sla_policies.deactivate(db_session, SYSTEM, at(2026, 11, 3), gold)
    # an inactive organisation does not hold it
    org.active = False
    db_session.flush()
    sla_policies.deactivate(db_session, SYSTEM, at(2026, 11, 3), gold)
    assert not gold.active
    with app.test_request_context():
        assert "金牌" not in dict(sla_policies.choices(db_session)).values()
    with pytest.raises(PolicyError, match="inactive"):
        sla_policies.set_organisation_policy(
            db_session, SYSTEM, at(2026, 11, 3), factory.organisation(), gold
        )
    sla_policies.reactivate(db_session, SYSTEM, at(2026, 11, 4), gold)
    with app.test_request_context():
        assert "金牌" in dict(sla_policies.choices(db_session)).values()


def test_the_builtin_policy_keeps_its_name(db_session, builtin):
    with pytest.raises(PolicyError):
        sla_policies.rename(db_session, SYSTEM, at(2026, 11, 3), builtin, "Bronze")
    gold = _gold(db_session)
    assert sla_policies.rename(db_session, SYSTEM, at(2026, 11, 3), gold, "Gold")
    assert gold.name == "Gold"


def test_choices_put_the_builtin_first_in_the_readers_language(app, db_session):
    from flask_babel import force_locale

    _gold(db_session)
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert [label for _id, label in sla_policies.choices(db_session)][:2] == [
                "标准",
                "金牌",
            ]
        with force_locale("en"):
            assert sla_policies.choices(db_session)[0][1] == "Standard"


def test_the_list_takes_the_same_queries_however_many_policies(app, db_session, count_queries):
    with count_queries() as few:
        sla_policies.list_policies(db_session)
    for n in range(5):
        p = sla_policies.create(db_session, SYSTEM, at(2026, 11, 3), f"Policy {n}", None)
        sla_policies.update_targets(
            db_session,
            SYSTEM,
            at(2026, 11, 3),
            p,
            _with(sla_policies.current_targets(db_session, p), "P2", respond_amount=n + 1),
        )
    db_session.flush()
    with count_queries() as many:
        rows = sla_policies.list_policies(db_session)
    assert len(many) == len(few)
    with app.test_request_context():  # the built-in one's name is the reader's word
        assert [str(r.name) for r in rows][:2] == ["Standard", "Policy 0"]
    assert rows[1].version == 2 and [t.priority for t in rows[1].targets] == ["P1", "P2", "P3"]
