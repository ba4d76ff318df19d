"""Mailboxes pointing at the test dovecot (tests/imap_server.py)."""

from __future__ import annotations

from portal.models import Mailbox, utcnow
from portal.services.inbound import mailbox_secret


def mailbox_for(server, app, user: str = "desk", **overrides) -> Mailbox:
    fields = dict(
        name=f"{user}-box",
        host=server.host,
        port=server.port,
        use_ssl=False,
        username=user,
        password_encrypted=mailbox_secret.encrypt(
            app.config, overrides.pop("password", server.users[user])
        ),
        folder="INBOX",
        after_taking="move",
        taken_folder="Portal/Taken",
        active=True,
        last_taken_count=0,
        created_at=utcnow(),
    )
    fields.update(overrides)
    return Mailbox(**fields)
