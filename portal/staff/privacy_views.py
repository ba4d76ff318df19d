"""privacy_views: routes and request-page panels of the staff side (see portal/web/panels.py)."""

from portal.staff import bp  # noqa: F401
