"""The customer's notifications: the page at /notifications, the header's badge and marking read
(docs/product.md §9). The same page as the staff's, from portal/web/notification_pages.py."""

from __future__ import annotations

from flask import make_response

from portal.customer import bp
from portal.web import notification_pages


@bp.get("/notifications")
def notifications():
    response = make_response(notification_pages.page("customer"))
    response.vary.add("HX-Request")
    return response


@bp.get("/notifications/badge")
def notifications_badge():
    return notification_pages.badge("customer")


@bp.post("/notifications/read")
def notifications_read():
    return notification_pages.mark_read("customer")
