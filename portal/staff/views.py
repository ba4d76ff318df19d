from __future__ import annotations

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.limits import limiter, person_or_address, rate
from portal.models import utcnow
from portal.presentation import presenters
from portal.presentation.presenters import request_contact
from portal.queue import redis_conn
from portal.services import downloads, request_page
from portal.services import queue as queue_service
from portal.staff import bp
from portal.staff.forms import QueueFilterForm
from portal.web import panels
from portal.web.downloads import send as send_download
from portal.web.login_views import login_view, logout_view
from portal.web.rendering import page_or_fragment, wants_fragment

# the query arguments that define a list (never "after"/"before", never url_for's own "_…")
LIST_ARGS = (
    "view",
    "q",
    "status",
    "priority",
    "type",
    "org",
    "assignee",
    "channel",
    "mine",
    "unassigned",
    "sort",
    "dir",
)
# the natural direction of each sort: newest first, P1 first, soonest due first
NATURAL_DESC = {"updated": True, "priority": False, "submitted": True, "number": True, "due": False}


@bp.route("/login", methods=["GET", "POST"])
def login():
    return login_view("staff", "staff/login.html", "staff.queue")


@bp.post("/logout")
def logout():
    return logout_view("staff.login")


@bp.get("/")
def home():
    return redirect(url_for("staff.queue"))


# ---------------------------------------------------------------------------------------------
# Queue


def _sort_args() -> tuple[str, str, bool]:
    sort = request.args.get("sort", queue_service.DEFAULT_SORT)
    if sort not in queue_service.SORTS:
        sort = queue_service.DEFAULT_SORT
    natural = "desc" if NATURAL_DESC[sort] else "asc"
    direction = request.args.get("dir", natural)
    if direction not in ("asc", "desc"):
        direction = natural
    return sort, direction, direction != natural


def format_count(n: int) -> str:
    cap = current_app.config["COUNT_CAP"]
    if n > cap:
        return _("%(count)s+", count=format_decimal(cap))
    return format_decimal(n)


def _counts() -> dict[str, str]:
    counts = queue_service.view_counts(
        db.session,
        current_user.id,
        current_app.config["COUNT_CAP"],
        cache=redis_conn(),
        ttl=current_app.config.get("QUEUE_COUNT_CACHE_SECONDS", 30),
    )
    return {name: format_count(n) for name, n in counts.items()}


def _vary(response):
    # the same URL answers a page or a fragment: caches must keep them apart
    response = make_response(response)
    response.vary.add("HX-Request")
    return response


def queue_rows(page: queue_service.QueuePage, now) -> list[dict]:
    """The rows of a queue page for ``staff/_queue_table.html``, contact data masked through the
    presenters (the queue and a report's drill-down)."""
    return [
        {
            "row": row,
            "sr": presenters.request_for(
                row.request, presenters.staff_access(row.staff_on_request)
            ),
            "contact": request_contact(
                row.request, current_user, staff_on_request=row.staff_on_request
            ),
            "due": queue_service.resolution_risk(row.request, now),
        }
        for row in page.rows
    ]


@bp.get("/queue")
@limiter.limit(
    rate("search"), key_func=person_or_address, exempt_when=lambda: not request.args.get("q")
)
def queue():
    form = QueueFilterForm(formdata=request.args)
    filters = form.to_filters()
    sort, direction, reverse = _sort_args()
    now = utcnow()
    page = queue_service.fetch_page(
        db.session,
        current_user.id,
        filters,
        sort=sort,
        reverse=reverse,
        after=request.args.get("after"),
        before=request.args.get("before"),
        page_size=current_app.config["PAGE_SIZE"],
    )
    rows = queue_rows(page, now)
    # the args that make this list (filters and sort), for the sort and paging links
    base_args = {k: v for k, v in request.args.items(multi=False) if k in LIST_ARGS and v}
    context = dict(
        form=form,
        filters=filters,
        result=page,
        rows=rows,
        sort=sort,
        direction=direction,
        base_args=base_args,
        natural_desc=NATURAL_DESC,
    )
    if not wants_fragment():
        form.set_choices(queue_service.filter_choices(db.session))
        context["counts"] = _counts()
        context["current_view"] = filters.view
    return _vary(page_or_fragment("staff/queue.html", "staff/_queue_table.html", **context))


@bp.get("/queue/counts")
def queue_counts():
    view = request.args.get("view", queue_service.DEFAULT_VIEW)
    if view not in queue_service.VIEWS:
        view = queue_service.DEFAULT_VIEW
    return render_template("staff/_queue_counts.html", counts=_counts(), current_view=view)


# ---------------------------------------------------------------------------------------------
# Request page


@bp.get("/requests/<number>")
def request_detail(number: str):
    now = utcnow()
    viewer = current_user.account
    page = request_page.staff_page(db.session, viewer, number, now, str(get_locale() or "en"))
    if page is None:
        abort(404)
    return render_template(
        "staff/request.html",
        d=page,
        sr=page.header.sr,
        contact=page.header.contact,
        files_open=downloads.may_open(page.header.access, ""),
        due=page.due,
        **panels.context("staff", db.session, page.header.request, viewer, now),
    )


@bp.get("/requests/<number>/files/<int:attachment_id>")
def download(number: str, attachment_id: int):
    found = downloads.for_staff(
        db.session,
        current_user.account,
        number,
        attachment_id,
        current_app.config["UPLOAD_FOLDER"],
        utcnow(),
    )
    if found is None:
        abort(404)
    return send_download(found)
