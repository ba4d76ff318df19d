"""The portal's own Message-IDs, and finding them again in a reply (docs/product.md §9).

Every mail the portal sends carries ``<NUMBER.OUTBOX-ID@DOMAIN>`` (a request's mail) or
``<portal.OUTBOX-ID@DOMAIN>`` (any other), DOMAIN being that of ``MAIL_FROM``. A reply names it
in ``In-Reply-To`` or ``References``; the inbound side reads the request number back from it
and treats a mail whose own Message-ID has this shape as one of ours (a loop).
"""

from __future__ import annotations

import re

from portal.domain.numbers import NUMBER_RE

_ID_RE = re.compile(r"<([^<>@\s]+)@([^<>\s]+)>")
_LOCAL_RE = re.compile(r"^(?:(?P<number>(?:SR|IR|SD|FB)-\d{8}-\d{3,})|portal)\.(?P<id>\d+)$")


def sender_domain(sender: str) -> str:
    """The domain of the portal's From address (``servicedesk@desk.example`` → ``desk.example``)."""
    domain = (sender or "").rsplit("@", 1)[-1].strip().strip(">").lower()
    return domain or "localhost"


def message_id(outbox_id: int, number: str | None, domain: str) -> str:
    """The Message-ID of outbox row ``outbox_id``, naming the request's number when it has one."""
    local = number if number and NUMBER_RE.match(number) else "portal"
    return f"<{local}.{outbox_id}@{domain}>"


def ours(header: str | None, domain: str) -> list[tuple[str | None, int]]:
    """The portal Message-IDs named in a header (In-Reply-To, References, Message-ID), in order:
    (request number or None, outbox id)."""
    found = []
    for local, dom in _ID_RE.findall(header or ""):
        if dom.lower() != domain.lower():
            continue
        m = _LOCAL_RE.match(local)
        if m:
            found.append((m.group("number"), int(m.group("id"))))
    return found


def referenced_number(headers: list[str | None], domain: str) -> str | None:
    """The request number that a reply's In-Reply-To / References point at (the nearest first:
    In-Reply-To, then References from the last)."""
    for header in headers:
        for number, _outbox_id in reversed(ours(header, domain)):
            if number:
                return number
    return None
