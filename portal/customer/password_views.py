"""Forgot password and the mailed password links (customer side; portal/web/password_links.py)."""

from portal.customer import bp
from portal.limits import limiter, rate
from portal.web import password_links
from portal.web import password_strength as password_strength_meter


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(rate("password_reset"), methods=["POST"])
def password_forgot():
    return password_links.forgot("customer")


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def password_set(token: str):
    return password_links.set_password("customer", "set", token)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    return password_links.set_password("customer", "reset", token)


@bp.post("/password/strength")
@limiter.limit(rate("strength"))
def password_strength():
    return password_strength_meter.strength_fragment("customer")
