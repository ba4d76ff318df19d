"""A month of known requests for the report tests (docs/product.md §9).

Period 2026-09-30 … 2026-10-31 (Asia/Shanghai), read at ``NOW`` (5 Nov 2026):

| req | prio | type | org | handler | response | resolution | escalation | feedback | hours | deliveries |
|---|---|---|---|---|---|---|---|---|---|---|
| A | P1 | fault | 华东 | e1 | 1 h, met | 3 h, met | — | 5/4/5 | e1 2.5 | pass |
| B | P1 | fault | 华东 | e1 | 3 h, missed | 6 h, missed | level 2 | 3/4/2 | e1 4.0, e2 1.0 | fail, pass |
| C | P2 | consultation | 华南 | e2 | 1 h, met | 11 h, met | — | invited, none | e2 1.5 | pass |
| D | P3 | fault | 华南 | e2 | none, overdue: missed | not yet due | level 1 | — | — | — |
| E | P3 | fault | 华东 | — | 10 working h, missed | 23 working h, met | — | invited, none | — | accepted (lifecycle) |

E goes through the real lifecycle across the National Day holiday (1–7 Oct 2026, Sat 10 Oct a
make-up working day): submitted Wed 30 Sep 17:00, answered Fri 9 Oct 10:00 (8 working hours due
Thu 8 Oct 17:00: 2 late), an hour paused for the customer, delivered Sat 10 Oct 17:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from portal.domain.feedback import mean_score
from portal.models import Delivery, Feedback, HandlingRecord, HandlingStep
from portal.services import lifecycle as lifecycle_service
from portal.services.audit import SYSTEM

TZ = "Asia/Shanghai"
_n = count(1)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


NOW = at(2026, 11, 5, 9)
H = timedelta(hours=1)


def _apply(session, sr, action, now, *caps):
    lifecycle_service.apply(session, SYSTEM, set(caps), sr, action, now)


def _steps(session, sr, *steps):
    record = HandlingRecord(number=f"IR-T-{next(_n)}-{sr.id}", request_id=sr.id)
    session.add(record)
    session.flush()
    for author, hours in steps:
        session.add(
            HandlingStep(
                record_id=record.id,
                author_id=author.id,
                occurred_at=sr.submitted_at + H,
                operation="检查数据库连接池配置并重启应用服务",
                hours=Decimal(hours),
            )
        )


def _delivery(session, sr, handler, result, round_=1):
    session.add(
        Delivery(
            number=f"SD-T-{next(_n)}",
            request_id=sr.id,
            round=round_,
            delivered_by_id=handler.id,
            service_item="数据库连接修复",
            content_hash="0" * 64,
            result=result,
            unmet_items="登录仍然超时" if result == "fail" else "",
            rectification="请优化连接池参数" if result == "fail" else "",
            delivered_at=sr.submitted_at + 2 * H,
            decided_at=sr.submitted_at + 3 * H,
        )
    )


def _feedback(session, sr, contact, scores, suggestions=""):
    session.add(
        Feedback(
            number=f"FB-T-{next(_n)}",
            request_id=sr.id,
            customer_id=contact.id,
            channel="portal",
            recorded_by_id=contact.id,
            score_response=scores[0],
            score_effect=scores[1],
            score_attitude=scores[2],
            mean_score=mean_score(*scores),
            suggestions=suggestions,
        )
    )


def _finished(sr, *, priority, submitted, response, response_due, delivered, resolution_due):
    sr.priority = priority
    sr.submitted_at = submitted
    sr.first_response_at = submitted + response
    sr.response_due_at = response_due
    sr.response_seconds = int(response.total_seconds())
    sr.delivered_at = submitted + delivered
    sr.resolution_due_at = resolution_due
    sr.resolution_seconds = int(delivered.total_seconds())
    sr.completed_at = sr.delivered_at + H
    sr.closed_at = sr.completed_at + H
    sr.status = "closed"


def seed(factory, session) -> dict:
    east = factory.organisation(name="华东制造")
    south = factory.organisation(name="华南物流")
    li = factory.customer(east, name="李明")
    wang = factory.customer(south, name="王芳")
    e1 = factory.staff("engineer", name="张强")
    e2 = factory.staff("engineer", name="陈静")

    a = factory.request(li, urgency="P1", now=at(2026, 10, 12, 10))
    a.handler_id = e1.id
    _finished(
        a,
        priority="P1",
        submitted=at(2026, 10, 12, 10),
        response=H,
        response_due=at(2026, 10, 12, 12),
        delivered=3 * H,
        resolution_due=at(2026, 10, 12, 14),
    )
    b = factory.request(li, urgency="P1", now=at(2026, 10, 13, 10))
    b.handler_id = e1.id
    _finished(
        b,
        priority="P1",
        submitted=at(2026, 10, 13, 10),
        response=3 * H,
        response_due=at(2026, 10, 13, 12),
        delivered=6 * H,
        resolution_due=at(2026, 10, 13, 14),
    )
    b.escalation_level = 2
    b.rework_count = 1
    c = factory.request(wang, type="consultation", urgency="P2", now=at(2026, 10, 14, 9))
    c.handler_id = e2.id
    _finished(
        c,
        priority="P2",
        submitted=at(2026, 10, 14, 9),
        response=H,
        response_due=at(2026, 10, 14, 13),
        delivered=11 * H,
        resolution_due=at(2026, 10, 15, 9),
    )
    d = factory.request(wang, urgency="P3", now=at(2026, 10, 30, 9))
    d.priority, d.status, d.handler_id = "P3", "in_progress", e2.id
    d.response_due_at = at(2026, 10, 30, 18)
    d.resolution_due_at = at(2026, 11, 30, 18)  # not yet due at NOW
    d.escalation_level = 1
    session.flush()

    # E: through the lifecycle, across the holiday
    e = factory.request(li, urgency="P3", now=at(2026, 9, 30, 17))
    e.status, e.priority = "in_progress", "P3"
    _apply(session, e, "ask_customer", at(2026, 10, 9, 10), "handler")
    _apply(session, e, "answer_customer", at(2026, 10, 9, 11), "customer")
    _apply(session, e, "deliver", at(2026, 10, 10, 17), "handler")
    e.delivered_at = at(2026, 10, 10, 17)
    _apply(session, e, "accept_pass", at(2026, 10, 12, 9), "customer")
    e.completed_at = at(2026, 10, 12, 9)
    session.flush()

    _steps(session, a, (e1, "2.5"))
    _steps(session, b, (e1, "4.0"), (e2, "1.0"))
    _steps(session, c, (e2, "1.5"))
    _delivery(session, a, e1, "pass")
    _delivery(session, b, e1, "fail")
    _delivery(session, b, e1, "pass", round_=2)
    _delivery(session, c, e2, "pass")
    _feedback(session, a, li, (5, 4, 5), "希望增加故障预警功能")
    _feedback(session, b, li, (3, 4, 2), "响应太慢,希望增加故障预警")
    session.flush()
    return {
        "east": east,
        "south": south,
        "li": li,
        "wang": wang,
        "e1": e1,
        "e2": e2,
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "e": e,
    }
