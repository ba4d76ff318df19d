"""Where a notification leads: the place where its reader can act on it (docs/product.md §9).
The same link in the portal's list, in the instant mail and in the digest."""

from __future__ import annotations

from flask import current_app

from portal.domain.notice_kinds import base_kind

# the panel of the request page where the reader acts, by side and kind
CUSTOMER_ANCHORS = {
    "reply": "panel-reply",
    "cooperation_requested": "panel-answer",
    "delivery_ready": "panel-acceptance",
    "acceptance_reminder": "panel-acceptance",
    "feedback_invite": "panel-rate",
    "feedback_reminder": "panel-rate",
    "sla_explanation": "panel-sla",
}
STAFF_ANCHORS = {
    "assigned": "panel-progress",
    "assignment_confirmed": "panel-progress",
    "not_started": "panel-progress",
    "customer_reply": "panel-reply",
    "customer_answered": "panel-reply",
    "acceptance_failed": "panel-deliver",
    "acceptance_passed": "panel-countersign",
    "feedback_received": "panel-feedback",
    "low_score": "panel-feedback",
    "response_warn": "panel-sla",
    "resolution_warn": "panel-sla",
    "response_breach": "panel-escalation",
    "resolution_breach": "panel-escalation",
    "response_escalation": "panel-escalation",
    "resolution_escalation": "panel-escalation",
}
# kinds whose place is not a request page
STAFF_PAGES = {
    "measure_assigned": "staff.measures",
    "measure_due_soon": "staff.measures",
    "measure_overdue": "staff.measures",
}


def notice_link(kind: str, number: str | None, *, staff: bool, base_url: str | None = None) -> str:
    """The URL a notification of ``kind`` about request ``number`` leads its reader to: the
    request page on the reader's side (customer or staff), at the panel where they act.
    With ``base_url`` (mail: PORTAL_BASE_URL, never the request's Host) the URL is absolute."""
    base = base_kind(kind)
    # built from the URL map, not url_for: jobs (timers, the digest) have no request to build on
    urls = current_app.url_map.bind("", script_name=current_app.config.get("APPLICATION_ROOT"))
    anchor = None
    if staff and base in STAFF_PAGES:
        path = urls.build(STAFF_PAGES[base])
    elif not number:
        path = urls.build("staff.notifications" if staff else "customer.index")
    else:
        anchor = (STAFF_ANCHORS if staff else CUSTOMER_ANCHORS).get(base)
        endpoint = "staff.request_detail" if staff else "customer.request_detail"
        path = urls.build(endpoint, {"number": number})
    if anchor:
        path = f"{path}#{anchor}"
    return f"{base_url.rstrip('/')}{path}" if base_url else path
