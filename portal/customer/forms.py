"""Forms of the customer side."""

from __future__ import annotations

from portal.web.forms import IntakeForm


class NewRequestForm(IntakeForm):
    """服务请求登记表 as the customer fills it in."""
