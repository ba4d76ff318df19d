"""Forgot password and the mailed password links (staff side; portal/web/password_links.py)."""

from portal.staff import bp
from portal.web import password_links


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot():
    return password_links.forgot("staff")


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def password_set(token: str):
    return password_links.set_password("staff", "set", token)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    return password_links.set_password("staff", "reset", token)
