"""Forgot password and the mailed password links (staff side; portal/web/password_links.py)."""

from portal.limits import limiter, rate
from portal.staff import bp
from portal.web import password_links
from portal.web import password_strength as password_strength_meter


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(rate("password_reset"), methods=["POST"])
def password_forgot():
    return password_links.forgot("staff")


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def password_set(token: str):
    return password_links.set_password("staff", "set", token)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    return password_links.set_password("staff", "reset", token)


@bp.post("/password/strength")
@limiter.limit(rate("strength"))
def password_strength():
    return password_strength_meter.strength_fragment("staff")
