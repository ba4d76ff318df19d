"""The administration area's front page: one entry for every admin page."""

from __future__ import annotations

from flask import render_template

from portal.staff.admin import bp, may_change
from portal.staff.admin.sections import sections_for


@bp.get("/", endpoint="index")
def index():
    return render_template("staff/admin/index.html", sections=sections_for(may_change()))
