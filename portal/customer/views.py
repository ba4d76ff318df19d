from __future__ import annotations

from dataclasses import dataclass

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.customer import bp
from portal.customer.forms import NewRequestForm
from portal.db import db
from portal.limits import limiter, person_or_address, rate
from portal.models import utcnow
from portal.presentation import presenters
from portal.presentation.formatting import format_size
from portal.services import downloads, listing, request_page
from portal.services.attachments import MAX_FILES
from portal.web import intake, panels
from portal.web.downloads import send as send_download
from portal.web.forms import set_category_choices
from portal.web.login_views import login_view, logout_view
from portal.web.rendering import page_or_fragment


@bp.route("/login", methods=["GET", "POST"])
def login():
    return login_view("customer", "customer/login.html", "customer.index")


@bp.post("/logout")
def logout():
    return logout_view("customer.login")


@dataclass(frozen=True)
class ListItem:
    row: listing.RequestRow
    handler: str  # masked for the customer: 张*
    contact: presenters.ContactView


@bp.get("/")
def index():
    viewer = current_user.account
    org_view = listing.sees_organisation(db.session, viewer)
    scope = listing.effective_scope(viewer, request.args.get("scope"), org_view)
    status = request.args.get("status", "")
    if status not in {s.value for s in listing.TAB_STATUSES} | {"cancelled"}:
        status = ""
    q = request.args.get("q", "").strip()[:100]
    after = listing.Cursor.decode(request.args.get("after"))
    page = listing.customer_requests(
        db.session,
        viewer,
        scope=scope,
        status=status or None,
        q=q,
        after=after,
        page_size=current_app.config["PAGE_SIZE"],
    )
    items = [
        ListItem(
            row,
            presenters.person_name(page.handler_names.get(row.handler_id), full=False),
            presenters.request_contact(row, viewer, staff_on_request=False),
        )
        for row in page.rows
    ]
    filters = {"q": q or None, "scope": scope.value if org_view else None}
    html = page_or_fragment(
        "customer/index.html",
        "customer/_request_table.html",
        listing_page=page,
        items=items,
        status=status,
        q=q,
        scope=scope.value,
        org_view=org_view,
        filters=filters,
        tab_statuses=listing.TAB_STATUSES,
        now=utcnow(),
        first_page=after is not None,
    )
    response = make_response(html)
    response.vary.add("HX-Request")
    return response


@bp.route("/requests/new", methods=["GET", "POST"])
@limiter.limit(rate("submission"), key_func=person_or_address, methods=["POST"])
def new_request():
    viewer = current_user.account
    form = NewRequestForm(
        contact_name=viewer.name, contact_phone=viewer.phone, contact_email=viewer.email
    )
    set_category_choices(form.category, db.session, str(get_locale() or "zh_CN"))
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if form.validate_on_submit():
        sr = intake.register(form, viewer)
        if sr is not None:
            flash(_("Your request %(number)s has been submitted.", number=sr.number), "success")
            return redirect(url_for("customer.request_detail", number=sr.number))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "customer/new_request.html",
        form=form,
        limit=format_size(limit),
        max_files=MAX_FILES,
        files_dropped=request.method == "POST" and bool(form.files()),
    ), status


@bp.get("/requests/<number>")
def request_detail(number: str):
    viewer = current_user.account
    now = utcnow()
    page = request_page.customer_page(db.session, viewer, number, now)
    if page is None:
        abort(404)
    return render_template(
        "customer/request.html",
        page=page,
        sr=page.header.sr,
        contact=page.header.contact,
        files_open=downloads.may_open(page.header.access, ""),
        now=now,
        **panels.context("customer", db.session, page.header.request, viewer, now),
    )


@bp.get("/requests/<number>/files/<int:attachment_id>")
def download(number: str, attachment_id: int):
    found = downloads.for_customer(
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
