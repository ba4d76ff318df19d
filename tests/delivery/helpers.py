"""Arranging requests for the delivery tests, and reading the printable forms."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from sqlalchemy import select

from portal.models import Delivery, Feedback, ServiceRequest

HTMX = {"HX-Request": "true"}
# a real 1×1 PNG
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PNG_DATA_URL = "data:image/png;base64," + base64.b64encode(PNG_1X1).decode()


def in_progress(factory, session, *, org=None, contact=None, handler=None, title=None):
    """A request assigned to ``handler`` and being worked on."""
    org = org or factory.organisation(name="客户A")
    contact = contact or factory.customer(org, name="李明", phone="13812345678")
    handler = handler or factory.staff("engineer", name="张强")
    sr = factory.request(contact, title=title or "生产系统无法登录", urgency="P1")
    sr.status = "in_progress"
    sr.priority = "P1"
    sr.handler_id = handler.id
    session.flush()
    return sr, contact, handler


def deliver_form(**overrides) -> dict:
    data = {
        "deliver-service_item": "生产系统故障修复",
        "deliver-items": "1.故障原因分析报告\n2.系统恢复操作记录\n3.后续维护建议",
        "deliver-criteria": "1.系统登录无异常\n2.故障报告内容完整",
        "deliver-demo_note": "",
    }
    data.update(overrides)
    return data


def reload(session, obj):
    session.expire(obj)
    return obj


def latest_delivery(session, sr) -> Delivery:
    return session.scalar(
        select(Delivery).where(Delivery.request_id == sr.id).order_by(Delivery.id.desc()).limit(1)
    )


def feedback_of(session, sr) -> Feedback | None:
    return session.scalar(select(Feedback).where(Feedback.request_id == sr.id))


def request_by_number(session, number) -> ServiceRequest:
    return session.scalar(select(ServiceRequest).where(ServiceRequest.number == number))


def criteria_ids(session, dlv) -> list[int]:
    from portal.models import DeliveryCriterion

    return list(
        session.scalars(
            select(DeliveryCriterion.id)
            .where(DeliveryCriterion.delivery_id == dlv.id)
            .order_by(DeliveryCriterion.position)
        )
    )


class _TableParser(HTMLParser):
    """The first table.form-table: its column titles, and its body rows as cell texts (list
    items joined by " | ")."""

    def __init__(self) -> None:
        super().__init__()
        self.state = "before"  # before / table / body / done
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._items: list[str] = []
        self._item: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if (
            self.state == "before"
            and tag == "table"
            and "form-table" in (dict(attrs).get("class") or "")
        ):
            self.state = "table"
        elif self.state in ("table", "body"):
            if tag == "tbody":
                self.state = "body"
            elif tag == "tr" and self.state == "body":
                self.rows.append([])
            elif tag in ("th", "td"):
                self._cell, self._items = [], []
            elif tag == "li" and self._cell is not None:
                self._item = []

    def handle_endtag(self, tag):
        if self.state not in ("table", "body"):
            return
        if tag == "li" and self._item is not None:
            self._items.append(" ".join("".join(self._item).split()))
            self._item = None
        elif tag in ("th", "td") and self._cell is not None:
            text = " | ".join(self._items) if self._items else " ".join("".join(self._cell).split())
            (self.rows[-1] if self.state == "body" else self.headers).append(text)
            self._cell = None
        elif tag == "table":
            self.state = "done"

    def handle_data(self, data):
        if self._item is not None:
            self._item.append(data)
        if self._cell is not None:
            self._cell.append(data)


def form_table(html: str) -> tuple[list[str], list[dict[str, str]]]:
    """(column titles, rows as {column title: cell text})."""
    parser = _TableParser()
    parser.feed(html)
    return parser.headers, [dict(zip(parser.headers, row, strict=True)) for row in parser.rows]


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
