"""A person's notifications as their page shows them (docs/product.md §9, "The notifications
pages"): newest first, grouped by the desk's day and, within a day, by request, each request
named by its number and title; an unread filter, keyset pages ("older"), and marking read one,
one request's or all. The customer's page and the staff's page are built here alike.

The page costs two statements whatever its length: the notifications joined to their requests,
and the capped unread count."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.domain.ids import parse_id
from portal.models import Notification, ServiceRequest

PAGE_SIZE = 50
BADGE_CAP = 99
SHOWS = ("unread", "all")


@dataclass(frozen=True)
class Item:
    id: int
    kind: str
    params: dict
    created_at: datetime
    unread: bool
    number: str | None


@dataclass
class RequestGroup:
    request_id: int | None
    number: str | None
    title: str | None
    items: list[Item] = field(default_factory=list)

    @property
    def unread(self) -> int:
        return sum(1 for item in self.items if item.unread)


@dataclass
class DayGroup:
    day: date
    is_today: bool
    is_yesterday: bool
    groups: list[RequestGroup] = field(default_factory=list)


@dataclass
class NotificationPage:
    show: str
    days: list[DayGroup]
    unread_total: int  # capped at BADGE_CAP + 1 (the badge says "99+")
    before: int | None  # the cursor this page was read from (None: the newest)
    older: int | None  # the cursor of the next, older page (None: nothing older)

    @property
    def empty(self) -> bool:
        return not self.days


def parse_show(raw: str | None) -> str:
    """The filter from the query string: unread or all (anything else reads as all)."""
    return raw if raw in SHOWS else "all"


def parse_cursor(raw: str | None) -> int | None:
    return parse_id(raw)


def unread_count(session: Session, account_id: int, cap: int = BADGE_CAP) -> int:
    """Unread notifications of ``account_id``, counted up to ``cap`` + 1."""
    return session.scalar(
        select(func.count()).select_from(
            select(Notification.id)
            .where(Notification.recipient_id == account_id, Notification.read_at.is_(None))
            .limit(cap + 1)
            .subquery()
        )
    )


def notification_page(
    session: Session,
    account_id: int,
    now: datetime,
    zone: str,
    *,
    show: str = "all",
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> NotificationPage:
    """The page of ``account_id``'s notifications older than the cursor ``before``."""
    stmt = (
        select(Notification, ServiceRequest.number, ServiceRequest.title)
        .outerjoin(ServiceRequest, ServiceRequest.id == Notification.request_id)
        .where(Notification.recipient_id == account_id)
        .order_by(Notification.id.desc())
        .limit(limit + 1)
    )
    if show == "unread":
        stmt = stmt.where(Notification.read_at.is_(None))
    if before is not None:
        stmt = stmt.where(Notification.id < before)
    rows = session.execute(stmt).all()
    older = rows[limit - 1][0].id if len(rows) > limit else None
    items = [
        (
            Item(
                id=n.id,
                kind=n.kind,
                params=dict(n.params or {}),
                created_at=n.created_at,
                unread=n.read_at is None,
                number=number or (n.params or {}).get("number"),
            ),
            n.request_id,
            title,
        )
        for n, number, title in rows[:limit]
    ]
    return NotificationPage(
        show=show,
        days=group_by_day_and_request(items, now, ZoneInfo(zone)),
        unread_total=unread_count(session, account_id),
        before=before,
        older=older,
    )


def group_by_day_and_request(
    items: list[tuple[Item, int | None, str | None]], now: datetime, zone: ZoneInfo
) -> list[DayGroup]:
    """Newest first: the desk's days, and in each day one group per request in the order of
    its newest notification that day."""
    today = now.astimezone(zone).date()
    days: dict[date, DayGroup] = {}
    groups: dict[tuple[date, int | str | None], RequestGroup] = {}
    for item, request_id, title in items:
        day = item.created_at.astimezone(zone).date()
        if day not in days:
            days[day] = DayGroup(
                day=day, is_today=day == today, is_yesterday=day == today - timedelta(days=1)
            )
        # a notification without a request groups by the number it names, if any
        key = (day, request_id if request_id is not None else item.number)
        group = groups.get(key)
        if group is None:
            group = groups[key] = RequestGroup(request_id, item.number, title)
            days[day].groups.append(group)
        group.items.append(item)
    return list(days.values())


def mark_read(
    session: Session,
    account_id: int,
    now: datetime,
    *,
    notification_id: int | None = None,
    request_id: int | None = None,
) -> int:
    """Mark read ``account_id``'s unread notifications: the one ``notification_id``, those about
    ``request_id``, or (neither given) all of them. Another person's ids change nothing.
    Returns how many were marked."""
    stmt = update(Notification).where(
        Notification.recipient_id == account_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    if request_id is not None:
        stmt = stmt.where(Notification.request_id == request_id)
    return session.execute(
        stmt.values(read_at=now).execution_options(synchronize_session=False)
    ).rowcount
