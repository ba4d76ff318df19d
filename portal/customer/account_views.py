"""The customer's account page: name, language, password, active sessions."""

from portal.customer import bp
from portal.web import account, notification_settings

TEMPLATE = "customer/account.html"


@bp.get("/account", endpoint="account")
def account_page():
    return account.account_page(TEMPLATE, "customer")


@bp.post("/account/profile")
def account_profile():
    return account.update_profile(TEMPLATE, "customer", "customer.account")


@bp.post("/account/password")
def account_password():
    return account.change_password(TEMPLATE, "customer", "customer.account")


@bp.post("/account/logout-everywhere")
def account_logout_everywhere():
    return account.log_out_everywhere(TEMPLATE, "customer", "customer.login")


@bp.get("/account/notifications", endpoint="notification_settings")
def account_notification_settings():
    return notification_settings.settings_page("customer")


@bp.post("/account/notifications", endpoint="notification_settings_save")
def account_notification_settings_save():
    return notification_settings.save_settings("customer", "customer.notification_settings")


@bp.post("/account/sessions/end")
def account_session_end():
    return account.end_session(TEMPLATE, "customer", "customer.account", "customer.login")
