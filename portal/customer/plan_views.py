"""The customer's service plans at ``/plans`` (docs/product.md §10): the periodic services of
their organisation that concern them, the next due dates, and the recent occurrences with their
requests (each delivery is accepted like any other, on its request's page)."""

from flask import render_template
from flask_login import current_user

from portal.customer import bp
from portal.db import db
from portal.models import utcnow
from portal.services import plan_pages


@bp.get("/plans", endpoint="plans")
def plans_page():
    rows = plan_pages.customer_plans(db.session, current_user.account, utcnow())
    return render_template("customer/plans.html", plans=rows)
