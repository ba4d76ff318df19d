from flask import render_template

from portal.customer import bp
from portal.web.login_views import login_view, logout_view


@bp.route("/login", methods=["GET", "POST"])
def login():
    return login_view("customer", "customer/login.html", "customer.index")


@bp.post("/logout")
def logout():
    return logout_view("customer.login")


@bp.get("/")
def index():
    return render_template("customer/index.html")


@bp.get("/requests/new")
def new_request():
    return render_template("customer/index.html")
