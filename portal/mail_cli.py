"""`portal mail …`: the e-mail channel from the command line (registered by
portal.cli.register_commands). Each command lives in its own module and is added below."""

from __future__ import annotations

import click

from portal.mail_fetch_cli import mail_fetch
from portal.mail_receive_cli import receive


@click.group("mail")
def mail_group() -> None:
    """The e-mail channel: take mail in."""


mail_group.add_command(receive)
mail_group.add_command(mail_fetch)
