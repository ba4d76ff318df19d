from flask import redirect, render_template, url_for

from portal.staff import bp
from portal.web.login_views import login_view, logout_view


@bp.route("/login", methods=["GET", "POST"])
def login():
    return login_view("staff", "staff/login.html", "staff.queue")


@bp.post("/logout")
def logout():
    return logout_view("staff.login")


@bp.get("/")
def home():
    return redirect(url_for("staff.queue"))


@bp.get("/queue")
def queue():
    return render_template("staff/queue.html")
