"""sla_views: routes and request-page panels of the customer side (see portal/web/panels.py)."""

from portal.customer import bp  # noqa: F401
