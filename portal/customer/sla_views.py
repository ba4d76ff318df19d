"""sla_views: the customer's view of the SLA clock (see portal/web/panels.py); the data of both
pieces comes from portal.services.sla_panels.

- the request page's "Service level" panel: response and resolution due, and whether the clock
  is paused waiting for the customer (customer/_due_times.html);
- the new-request page's notice when the desk is outside working hours or a holiday is coming
  ("next working day: …"), through the template global ``desk_notice()``
  (customer/_desk_notice.html).
"""

from __future__ import annotations

from flask_login import current_user

from portal.customer import bp
from portal.db import db
from portal.models import utcnow
from portal.services import sla_panels
from portal.web import panels


@panels.provider("customer")
def _due_times_panel(session, sr, viewer, now) -> dict:
    return {"due_times": sla_panels.due_times(session, sr, now)}


@bp.context_processor
def _desk_notice_global() -> dict:
    def desk_notice() -> sla_panels.DeskNotice | None:
        if not current_user.is_authenticated or current_user.kind != "customer":
            return None
        return sla_panels.desk_notice(db.session, current_user.organisation_id, utcnow())

    return {"desk_notice": desk_notice}
