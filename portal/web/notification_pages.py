"""The notifications page, its badge and marking read, for either side (the customer's at
/notifications, the staff's at /staff/notifications): the blueprints' views call these with
their side. The page's data is built by portal/services/notification_list.py."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.models import utcnow
from portal.presentation.notice_links import notice_link
from portal.presentation.notices import describe
from portal.services import notification_list as listing
from portal.web.rendering import wants_fragment

PAGE = "notifications/page.html"
BODY = "notifications/_body.html"
BADGE = "notifications/_badge.html"


def _page(show: str, before: int | None):
    return listing.notification_page(
        db.session,
        current_user.id,
        utcnow(),
        current_app.config["PORTAL_TIMEZONE"],
        show=show,
        before=before,
    )


def _context(side: str, data, **extra) -> dict:
    staff = side == "staff"
    return {
        "side": side,
        "notif": data,
        "describe": describe,
        "link_for": lambda item: notice_link(item.kind, item.number, staff=staff),
        "request_url": lambda number: url_for(f"{side}.request_detail", number=number),
        **extra,
    }


def page(side: str):
    """GET: the page, or its body for htmx (the filter and "older" links swap it)."""
    show = listing.parse_show(request.args.get("show"))
    before = listing.parse_cursor(request.args.get("before"))
    context = _context(side, _page(show, before))
    return render_template(BODY if wants_fragment() else PAGE, **context)


def badge(side: str):
    count = listing.unread_count(db.session, current_user.id)
    return render_template(BADGE, side=side, unread=count)


def _target(form) -> tuple[str, dict] | None:
    """What the form asks to mark: ("one", id), ("request", id) or ("all", {}); None when an id
    is not a number."""
    for name, scope in (("id", "notification_id"), ("request", "request_id")):
        raw = form.get(name)
        if raw is not None:
            value = listing.parse_cursor(raw)
            return None if value is None else (name, {scope: value})
    return ("all", {})


def mark_read(side: str):
    """POST: mark one notification (``id``), one request's (``request``) or all read. Only the
    reader's own notifications change; another person's id marks nothing. htmx gets the page's
    body again with the badge swapped out of band; without JavaScript, the page again."""
    show = listing.parse_show(request.form.get("show"))
    before = listing.parse_cursor(request.form.get("before"))
    target = _target(request.form)
    marked = 0
    if target is not None:
        marked = listing.mark_read(db.session, current_user.id, utcnow(), **target[1])
        db.session.commit()
    if target is None:
        status = _("That notification could not be found.")
    elif marked:
        status = _("Marked as read.")
    else:
        status = _("Nothing left to mark as read.")
    if not wants_fragment():
        flash(status, "success" if marked else "info")
        args = {"show": show} if show != "all" else {}
        if before is not None:
            args["before"] = before
        return redirect(url_for(f"{side}.notifications", **args))
    data = _page(show, before)
    return render_template(
        BODY, **_context(side, data, status=status, unread=data.unread_total, oob_badge=True)
    )
