"""The staff side, at "/staff": guarded as a whole."""

from flask import Blueprint

from portal.web.auth import guard_side

bp = Blueprint("staff", __name__, template_folder="templates")

PUBLIC_ENDPOINTS = {
    "staff.login",
    # forgot password and the mailed links (portal/web/password_links.py)
    "staff.password_forgot",
    "staff.password_set",
    "staff.password_reset",
    "staff.password_strength",
}
bp.before_request(guard_side("staff", PUBLIC_ENDPOINTS))

from portal.staff import (  # noqa: E402,F401  (routes register on bp)
    account_views,
    admin,  # noqa: E402  (the administration area, nested at /staff/admin)
    board_views,
    delivery_views,
    dispatch_views,
    feedback_views,
    mail_views,
    monthly_views,
    password_views,
    privacy_views,
    register_views,
    report_views,
    sla_views,
    views,
    work_views,
    workflow_views,
)

bp.register_blueprint(admin.bp, url_prefix="/admin")
