"""`portal mail …`: the e-mail channel from the command line (registered by
portal.cli.register_commands). Each command lives in its own module and is added below."""

from __future__ import annotations

import click


@click.group("mail")
def mail_group() -> None:
    """The e-mail channel: take mail in."""


from portal.mail_fetch_cli import mail_fetch  # noqa: E402  (each command in its own module)

mail_group.add_command(mail_fetch)
