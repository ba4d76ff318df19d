"""The monthly feedback analysis report (客户反馈分析报告, FA-YYYYMM), docs/product.md §9.

Generated for each month on the first working day of the next (the desk's business calendar)
by the daily check (``portal.jobs_reports``), exactly once: the month is a unique key, so two
workers racing make one report and a check after Redis lost its jobs finds it made. Its figures
are computed once and frozen in the row, sealed by the SHA-256 of their canonical JSON. A
preview computes the same for any month without storing anything.

What customers wrote (suggestions, unmet items, rectification requests, titles) is stored with
its personal data redacted (``portal.domain.pii``): the report is read by people outside the
requests.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain import pii
from portal.domain.feedback import DIMENSIONS, MEASURE_DONE, FeedbackError, check_measure
from portal.domain.report_stats import Month, change, one_decimal, rate, ratio
from portal.models import (
    Account,
    CooperationRequest,
    Delivery,
    Feedback,
    FeedbackReport,
    ImprovementMeasure,
    ReviewMeeting,
    ServiceRequest,
)
from portal.services import audit
from portal.services.reports import figures, times
from portal.services.reports.filters import ReportFilters, bounds, clauses
from portal.services.reports.page import satisfaction_figures
from portal.services.reports.terms import common_terms

SR = ServiceRequest
PREFIX = "FA"
TOP = 5
LOW_SCORE = 2  # a timeliness or attitude score at or below this is communication falling short
TEXTS_LIMIT = 2000  # the texts read for the recurring terms, newest first


def number_of(month: Month) -> str:
    return f"{PREFIX}-{month.compact()}"


def _s(value) -> str | None:
    return None if value is None else str(value)


def _h(seconds: float | None) -> str | None:
    return None if seconds is None else str(one_decimal(seconds / 3600))


def seal(figures_: dict) -> str:
    canonical = json.dumps(figures_, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _seconds_between(session: Session, start, end):
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400


def _satisfaction(session, where, total) -> dict:
    sat = satisfaction_figures(session, where, total)
    return {
        "means": {d: _s(sat.means[d]) for d in DIMENSIONS},
        "mean": _s(sat.mean),
        "invited": sat.invited,
        "rated": sat.rated,
        "response_rate": _s(sat.response_rate),
        "distribution": {
            d: {str(k): v for k, v in sat.distribution[d].items()} for d in DIMENSIONS
        },
    }


def _type_category():
    return SR.type + literal(":") + func.coalesce(SR.category, "")


def _split(key: str) -> dict:
    request_type, _, category = (key or ":").partition(":")
    return {"type": request_type, "category": category or None}


def compute(session: Session, start: date, end: date, timezone: str, now: datetime) -> dict:
    """The report's figures for the requests submitted from ``start`` to ``end`` (local dates),
    compared with the period of the same length just before; plain JSON."""
    f = ReportFilters(start=start, end=end)
    where = clauses(f, timezone)
    days = (end - start).days + 1
    previous = ReportFilters(start=start - timedelta(days=days), end=start - timedelta(days=1))
    if start.day == 1 and (end + timedelta(days=1)).day == 1:  # a calendar month: the one before
        month = Month.of(start).shift(-1)
        previous = ReportFilters(
            start=month.first_day, end=month.next_first_day - timedelta(days=1)
        )
    comp = figures.summary(session, where, now).get(None) or figures.EMPTY
    resp = times.times(session, where, "response").get(None)
    resol = times.times(session, where, "resolution").get(None)
    rework, hours = comp, comp.hours
    sat = _satisfaction(session, where, comp)
    before_where = clauses(previous, timezone)
    before_total = figures.summary(session, before_where, now).get(None) or figures.EMPTY
    before = _satisfaction(session, before_where, before_total)
    sat["previous"] = {"means": before["means"], "mean": before["mean"]}

    def delta(now_value, before_value):
        d = change(
            Decimal(now_value) if now_value else None,
            Decimal(before_value) if before_value else None,
        )
        return _s(d)

    sat["change"] = {d: delta(sat["means"][d], before["means"][d]) for d in DIMENSIONS}
    sat["change"]["mean"] = delta(sat["mean"], before["mean"])
    rated_means = {d: sat["means"][d] for d in DIMENSIONS if sat["means"][d] is not None}
    lowest_dimension = (
        min(rated_means, key=lambda d: Decimal(rated_means[d])) if rated_means else None
    )

    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timezone": timezone,
        "previous": {"start": previous.start.isoformat(), "end": previous.end.isoformat()},
        "requests": comp.requests,
        "sla": {
            "response_met": comp.response_met,
            "response_missed": comp.response_missed,
            "response_rate": _s(rate(comp.response_met, comp.response_met + comp.response_missed)),
            "resolution_met": comp.resolution_met,
            "resolution_missed": comp.resolution_missed,
            "resolution_rate": _s(
                rate(comp.resolution_met, comp.resolution_met + comp.resolution_missed)
            ),
            "response_median_h": _h(resp.median if resp else None),
            "response_p90_h": _h(resp.p90 if resp else None),
            "resolution_median_h": _h(resol.median if resol else None),
            "resolution_p90_h": _h(resol.p90 if resol else None),
        },
        "hours": str(hours),
        "deliveries": rework.deliveries,
        "failed": rework.failed,
        "rework_ratio": _s(ratio(rework.failed, rework.deliveries)),
        "satisfaction": sat,
        "lowest": _lowest(session, where),
        "problems": {**_problems(session, where, now), "lowest_dimension": lowest_dimension},
        "communication": _communication(session, where, now),
        "measures": _measures(session, f, timezone, now),
    }


def _lowest(session: Session, where) -> list[dict]:
    rows = session.execute(
        select(
            SR.number,
            SR.title,
            Feedback.score_response,
            Feedback.score_effect,
            Feedback.score_attitude,
            Feedback.mean_score,
            Feedback.suggestions,
        )
        .join(Feedback, Feedback.request_id == SR.id)
        .where(*where)
        .order_by(Feedback.mean_score, SR.id)
        .limit(TOP)
    )
    return [
        {
            "number": number,
            "title": pii.redact(title),
            "scores": [r, e, a],
            "mean": _s(mean),
            "suggestions": pii.redact(suggestions or ""),
        }
        for number, title, r, e, a, mean, suggestions in rows
    ]


def _problems(session: Session, where, now: datetime) -> dict:
    group = _type_category()
    by_count = figures.summary(session, where, now, group)
    most = sorted(by_count.values(), key=lambda c: (-c.requests, c.key or ""))[:TOP]
    reworked = by_count
    most_rework = sorted(
        (r for r in reworked.values() if r.failed), key=lambda r: (-r.failed, r.key or "")
    )[:TOP]
    slow = times.times(session, where, "resolution", group)
    slowest = sorted(slow.values(), key=lambda t: (-(t.median or 0), t.key or ""))[:TOP]
    texts = [
        *session.scalars(
            select(Feedback.suggestions)
            .join(SR, SR.id == Feedback.request_id)
            .where(*where, Feedback.suggestions != "")
            .order_by(Feedback.id.desc())
            .limit(TEXTS_LIMIT)
        ),
        *(
            f"{unmet} {rectification}"
            for unmet, rectification in session.execute(
                select(Delivery.unmet_items, Delivery.rectification)
                .join(SR, SR.id == Delivery.request_id)
                .where(*where, Delivery.result == "fail")
                .order_by(Delivery.id.desc())
                .limit(TEXTS_LIMIT)
            )
        ),
    ]
    return {
        "most_requests": [{**_split(c.key), "count": c.requests} for c in most],
        "most_rework": [{**_split(r.key), "failed": r.failed} for r in most_rework],
        "slowest": [{**_split(t.key), "median_h": _h(t.median), "count": t.count} for t in slowest],
        "terms": [[term, n] for term, n in common_terms(texts)],
    }


def _communication(session: Session, where, now: datetime) -> dict:
    low = session.execute(
        select(SR.number, Feedback.score_response, Feedback.score_attitude)
        .join(Feedback, Feedback.request_id == SR.id)
        .where(
            *where,
            (Feedback.score_response <= LOW_SCORE) | (Feedback.score_attitude <= LOW_SCORE),
        )
        .order_by(Feedback.mean_score, SR.id)
        .limit(TOP * 4)
    ).all()
    end = func.coalesce(CooperationRequest.answered_at, literal(now, type_=SR.submitted_at.type))
    waited = _seconds_between(session, CooperationRequest.asked_at, end).label("waited")
    waits = session.execute(
        select(SR.number, CooperationRequest.what, CooperationRequest.answered_at, waited)
        .join(SR, SR.id == CooperationRequest.request_id)
        .where(*where)
        .order_by(waited.desc(), CooperationRequest.id)
        .limit(TOP)
    ).all()
    return {
        "low_timeliness": sum(1 for row in low if row[1] <= LOW_SCORE),
        "low_attitude": sum(1 for row in low if row[2] <= LOW_SCORE),
        "low_scored": [
            {"number": number, "response": r, "attitude": a} for number, r, a in low[:TOP]
        ],
        "longest_waits": [
            {
                "number": number,
                "what": pii.redact(what),
                "answered": answered is not None,
                "hours": _h(float(seconds or 0)),
            }
            for number, what, answered, seconds in waits
        ],
    }


def _measures(session: Session, f: ReportFilters, timezone: str, now: datetime) -> dict:
    since, until = bounds(f.start, f.end, timezone)
    today = now.date()
    M = ImprovementMeasure

    def rows(*where, order):
        found = session.execute(
            select(M.measure, Account.name, M.deadline, M.status, M.done_at)
            .join(Account, Account.id == M.owner_id)
            .where(*where)
            .order_by(*order)
            .limit(20)
        )
        return [
            {
                "measure": pii.redact(text),
                "owner": owner,
                "deadline": deadline.isoformat(),
                "status": status,
                "overdue": status != MEASURE_DONE and deadline < today,
            }
            for text, owner, deadline, status, _done in found
        ]

    return {
        "new": rows(M.created_at >= since, M.created_at < until, order=(M.id,)),
        "done": rows(M.done_at >= since, M.done_at < until, order=(M.done_at, M.id)),
        "open": rows(M.status != MEASURE_DONE, M.created_at < until, order=(M.deadline, M.id)),
    }


# --- the stored report -----------------------------------------------------------------------


def month_period(month: Month) -> tuple[date, date]:
    return month.first_day, month.next_first_day - timedelta(days=1)


def find(session: Session, month: Month) -> FeedbackReport | None:
    return session.scalar(select(FeedbackReport).where(FeedbackReport.month == month.key()))


def generate(
    session: Session,
    actor: audit.Actor,
    month: Month,
    timezone: str,
    now: datetime,
) -> tuple[FeedbackReport, bool]:
    """The month's report, made now unless it exists: (report, made). Safe to run twice and
    concurrently: the unique month decides which insert stands."""
    existing = find(session, month)
    if existing is not None:
        return existing, False
    start, end = month_period(month)
    data = compute(session, start, end, timezone, now)
    row = FeedbackReport(
        number=number_of(month),
        month=month.key(),
        period_start=start,
        period_end=end,
        figures=data,
        content_hash=seal(data),
        generated_at=now,
        generated_by_id=actor.account_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = find(session, month)
        if found is None:
            raise
        return found, False
    audit.record(
        session,
        actor,
        now,
        "feedback_report.generated",
        "feedback_report",
        row.number,
        after={"month": row.month, "content_hash": row.content_hash},
    )
    return row, True


def sealed(report: FeedbackReport) -> bool:
    """The stored figures are those that were sealed at generation."""
    return seal(report.figures) == report.content_hash


def list_reports(session: Session, limit: int = 36) -> list[FeedbackReport]:
    return list(
        session.scalars(select(FeedbackReport).order_by(FeedbackReport.month.desc()).limit(limit))
    )


def by_number(session: Session, number: str) -> FeedbackReport | None:
    return session.scalar(select(FeedbackReport).where(FeedbackReport.number == number))


# --- the review meeting (服务复盘会) ----------------------------------------------------------


class MeetingError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(problems)
        self.problems = problems


MAX_TEXT = 4000


@dataclass(frozen=True)
class MeetingInput:
    held_on: date | None
    attendees: str
    decisions: str
    # a decision that becomes an improvement measure, with its owner and deadline (optional)
    measure: str = ""
    owner_id: int | None = None
    deadline: date | None = None


def record_meeting(
    session: Session,
    actor: audit.Actor,
    report: FeedbackReport,
    data: MeetingInput,
    now: datetime,
) -> ReviewMeeting:
    problems: dict[str, str] = {}
    if data.held_on is None:
        problems["held_on"] = "missing"
    elif data.held_on < report.period_start:
        problems["held_on"] = "before"
    for name in ("attendees", "decisions"):
        text = getattr(data, name).strip()
        if not text:
            problems[name] = "missing"
        elif len(text) > MAX_TEXT:
            problems[name] = "long"
    measure_text = (data.measure or "").strip()
    if measure_text or data.owner_id or data.deadline:
        try:
            check_measure(measure_text, data.owner_id, data.deadline, now.date())
        except FeedbackError as exc:
            problems.update(
                {k if k == "measure" else f"measure_{k}": v for k, v in exc.problems.items()}
            )
        owner = session.get(Account, data.owner_id) if data.owner_id else None
        if data.owner_id and (owner is None or owner.kind != "staff" or not owner.active):
            problems["measure_owner"] = "missing"
        if len(measure_text) > MAX_TEXT:
            problems["measure"] = "long"
    if problems:
        raise MeetingError(problems)
    meeting = ReviewMeeting(
        report_id=report.id,
        held_on=data.held_on,
        attendees=data.attendees.strip(),
        decisions=data.decisions.strip(),
        recorded_by_id=actor.account_id,
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "review_meeting.recorded",
        "feedback_report",
        report.number,
        after={"held_on": data.held_on.isoformat(), "attendees": meeting.attendees},
    )
    if measure_text:
        row = ImprovementMeasure(
            feedback_id=None,
            review_meeting_id=meeting.id,
            measure=measure_text,
            owner_id=data.owner_id,
            deadline=data.deadline,
            status="open",
            created_at=now,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            now,
            "measure.added",
            "improvement_measure",
            row.id,
            after={
                "report": report.number,
                "measure": row.measure,
                "owner_id": row.owner_id,
                "deadline": row.deadline.isoformat(),
            },
        )
    return meeting


def meetings_of(session: Session, report: FeedbackReport) -> list[ReviewMeeting]:
    return list(
        session.scalars(
            select(ReviewMeeting)
            .where(ReviewMeeting.report_id == report.id)
            .order_by(ReviewMeeting.held_on, ReviewMeeting.id)
        )
    )


@dataclass(frozen=True)
class MeetingMeasure:
    measure: str
    owner: str
    deadline: date
    status: str


@dataclass(frozen=True)
class MeetingRow:
    held_on: date
    attendees: str
    decisions: str
    recorded_by: str
    created_at: datetime
    measures: tuple[MeetingMeasure, ...] = ()


def meeting_rows(session: Session, report: FeedbackReport) -> list[MeetingRow]:
    """The review meetings of a report with who recorded each and the measures they decided:
    two statements."""
    rows = session.execute(
        select(ReviewMeeting, Account.name)
        .join(Account, Account.id == ReviewMeeting.recorded_by_id)
        .where(ReviewMeeting.report_id == report.id)
        .order_by(ReviewMeeting.held_on, ReviewMeeting.id)
    ).all()
    measures: dict[int, list[MeetingMeasure]] = {}
    if rows:
        M = ImprovementMeasure
        for meeting_id, text, owner, deadline, status in session.execute(
            select(M.review_meeting_id, M.measure, Account.name, M.deadline, M.status)
            .join(Account, Account.id == M.owner_id)
            .where(M.review_meeting_id.in_([m.id for m, _ in rows]))
            .order_by(M.id)
        ):
            measures.setdefault(meeting_id, []).append(
                MeetingMeasure(text, owner, deadline, status)
            )
    return [
        MeetingRow(
            m.held_on, m.attendees, m.decisions, name, m.created_at, tuple(measures.get(m.id, ()))
        )
        for m, name in rows
    ]
