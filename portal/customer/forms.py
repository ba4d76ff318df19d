"""Forms of the customer side."""

from __future__ import annotations

from portal.services.attachments import format_size
from portal.web.forms import IntakeForm

__all__ = ["NewRequestForm", "format_size"]


class NewRequestForm(IntakeForm):
    """服务请求登记表 as the customer fills it in."""
