"""The customer side, at "/": guarded as a whole."""

from flask import Blueprint

from portal.web.auth import guard_side

bp = Blueprint("customer", __name__, template_folder="templates")

PUBLIC_ENDPOINTS = {"customer.login"}
bp.before_request(guard_side("customer", PUBLIC_ENDPOINTS))

from portal.customer import (  # noqa: E402,F401  (routes register on bp)
    account_views,
    delivery_views,
    privacy_views,
    sla_views,
    views,
    workflow_views,
)
