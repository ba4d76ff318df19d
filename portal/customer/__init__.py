"""The customer side, at "/": guarded as a whole."""

from flask import Blueprint

from portal.web.auth import guard_side

bp = Blueprint("customer", __name__, template_folder="templates")

PUBLIC_ENDPOINTS = {
    "customer.login",
    # forgot password and the mailed links (portal/web/password_links.py)
    "customer.password_forgot",
    "customer.password_set",
    "customer.password_reset",
    "customer.password_strength",
}
bp.before_request(guard_side("customer", PUBLIC_ENDPOINTS))

from portal.customer import (  # noqa: E402,F401  (routes register on bp)
    account_views,
    colleague_views,
    delivery_views,
    notification_views,
    password_views,
    plan_views,
    privacy_views,
    report_views,
    sla_views,
    views,
    workflow_views,
)
