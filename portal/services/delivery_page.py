"""The delivery area of both request pages (SD acceptance, FB feedback and its improvement
measures) and the staff's measures list, built below the views.

A builder returns what a page shows and what the viewer may do on it, with the names and the
free text already as this viewer may see them (portal.presentation.presenters); the web layer
attaches its forms (``forms``) and renders. Each runs a fixed number of queries, whatever the
length of the history (deliveries, failed acceptances, measures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from portal.domain import delivery as delivery_rules
from portal.domain import feedback as feedback_rules
from portal.domain import lifecycle
from portal.models import Account, ImprovementMeasure, ServicePlan, ServiceRequest
from portal.presentation import presenters
from portal.services import delivery as delivery_service
from portal.services import feedback as feedback_service
from portal.services import lifecycle as lifecycle_service

# the states in which a request may carry a feedback
RATED_STATES = ("completed", "closed")


@dataclass(kw_only=True)
class DeliveryArea:
    """A request's deliveries and feedback as one viewer sees them, and the actions on offer."""

    sr: ServiceRequest
    actions: set[str]
    deliveries: list[delivery_service.DeliveryView]  # oldest first
    feedback: feedback_service.FeedbackView | None
    contact_full: bool  # the customer's signed name in full
    staff_full: bool  # a staff member's signed name in full
    forms: dict = field(default_factory=dict)  # the web layer's forms, by action

    @property
    def latest(self) -> delivery_service.DeliveryView | None:
        return self.deliveries[-1] if self.deliveries else None

    @property
    def pending(self) -> delivery_service.DeliveryView | None:
        """The delivery awaiting the customer's acceptance, if any."""
        latest = self.latest
        return latest if latest is not None and latest.pending else None

    @property
    def decided(self) -> list[delivery_service.DeliveryView]:
        """The accepted and the failed deliveries, newest first."""
        return [v for v in reversed(self.deliveries) if not v.pending]

    @property
    def previous_failure(self) -> delivery_service.DeliveryView | None:
        for view in reversed(self.deliveries):
            if view.delivery.result == delivery_rules.FAIL:
                return view
        return None

    def signer_name(self, signature) -> str:
        return presenters.signer_name(
            signature, contact_full=self.contact_full, staff_full=self.staff_full
        )


@dataclass(kw_only=True)
class DeliveryPanels(DeliveryArea):
    """The staff side's delivery area: countersigning, recording feedback, measures."""

    on_request: bool  # the viewer handles or collaborates on the request
    can_add_measure: bool = False
    owners: list[tuple[int, str]] = field(default_factory=list)  # who may own a measure
    notice: str | None = None  # the web layer's word after a success
    # a service plan's request: the first delivery starts from the plan's service item and
    # its checklist as the acceptance criteria (docs/product.md §10)
    plan_service_item: str | None = None
    plan_criteria: list[str] = field(default_factory=list)

    @property
    def can_countersign(self) -> bool:
        latest = self.latest
        return (
            "countersign" in self.actions
            and latest is not None
            and latest.delivery.result == delivery_rules.PASS
            and delivery_rules.HANDLER not in latest.signatures
        )


def _history(session: Session, sr: ServiceRequest, *, customer: bool, insider: bool):
    """The deliveries (five queries, one when there is none) and the feedback (two, none before
    completion), their free text redacted for outsiders."""
    deliveries = delivery_service.load(session, sr.id, customer=customer)
    fb = feedback_service.load(session, sr.id) if sr.status in RATED_STATES else None
    return (
        [presenters.delivery_for(view, insider) for view in deliveries],
        presenters.feedback_for(fb, insider),
    )


def customer_panels(session: Session, sr: ServiceRequest, viewer: Account) -> DeliveryArea:
    """The customer side: the contact and their organisation's admins sign and rate; colleagues
    who may view the request ("colleagues may view") read the history with its personal data
    redacted and the names masked, as on the rest of the page. Staff names are masked."""
    access = presenters.customer_access(sr, viewer)
    deliveries, fb = _history(session, sr, customer=True, insider=access.insider)
    return DeliveryArea(
        sr=sr,
        actions=lifecycle_service.customer_actions(session, sr, viewer),
        deliveries=deliveries,
        feedback=fb,
        contact_full=access.full_contact,
        staff_full=False,
    )


def staff_panels(
    session: Session, sr: ServiceRequest, viewer: Account, *, with_owners: bool = False
) -> DeliveryPanels:
    """The staff side: the customer's signed name in full only to staff on the request; the
    staff who may own a measure when the viewer may record feedback or add a measure (or
    ``with_owners``: a refused measure is shown again)."""
    caps = lifecycle_service.capacities(session, sr, viewer)
    actions = lifecycle.allowed_actions(sr.status, caps)
    on_request = bool(caps & {lifecycle.HANDLER, lifecycle.COLLABORATOR})
    # staff outside the request read the delivery history and the feedback with their personal
    # data redacted, like the rest of the page (docs/product.md §5)
    deliveries, fb = _history(session, sr, customer=False, insider=on_request)
    area = DeliveryPanels(
        sr=sr,
        actions=actions,
        deliveries=deliveries,
        feedback=fb,
        contact_full=on_request,
        staff_full=True,
        on_request=on_request,
        can_add_measure=fb is not None
        and bool(set(viewer.role_names) & feedback_service.MEASURE_ROLES),
    )
    if with_owners or "record_feedback" in actions or area.can_add_measure:
        area.owners = feedback_service.measure_owners(session)
    if sr.service_plan_id is not None and "deliver" in actions:
        plan = session.get(ServicePlan, sr.service_plan_id)
        if plan is not None:
            area.plan_service_item = plan.service_item
            area.plan_criteria = [t for t in plan.checklist.splitlines() if t.strip()]
    return area


# ---------------------------------------------------------------------------------------------
# The measures list


@dataclass
class MeasuresPage:
    rows: list[feedback_service.MeasureRow]
    owner_id: int | None  # the owner filter, None for anyone
    state: str  # one of portal.domain.feedback.MEASURE_FILTERS
    owners: list[tuple[int, str]]  # the owner filter's choices (empty for the table alone)
    viewer: Account

    def may_update(self, measure: ImprovementMeasure) -> bool:
        return feedback_service.may_update(self.viewer, measure)


def measures_page(
    session: Session,
    viewer: Account,
    today: date,
    *,
    owner_id: int | None = None,
    state: str | None = None,
    measure_id: int | None = None,
    with_owners: bool = True,
) -> MeasuresPage:
    """The measures, overdue first (one query), and the owners to filter by (one more with
    ``with_owners``); an unknown ``state`` is the default, the measures not done.
    ``measure_id``: that measure's row alone (after its status changed)."""
    if state not in feedback_rules.MEASURE_FILTERS:
        state = feedback_rules.MEASURE_FILTERS[0]
    rows = feedback_service.list_measures(
        session, today, owner_id=owner_id, state=state, measure_id=measure_id
    )
    owners = feedback_service.measure_owners(session) if with_owners else []
    return MeasuresPage(rows, owner_id, state, owners, viewer)
