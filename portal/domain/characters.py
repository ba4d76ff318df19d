"""Characters the portal never accepts in what people send: the C0 controls other than tab,
line feed and carriage return (NUL first of all: PostgreSQL cannot store it in text), DEL, the
C1 controls U+0080–U+009F, and lone surrogates."""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_characters(text: str | None) -> bool:
    return bool(text) and CONTROL_CHARACTERS.search(text) is not None


def without_control_characters(text: str) -> str:
    """The text as typed, less the characters above (tabs and line breaks stay)."""
    return CONTROL_CHARACTERS.sub("", text)
