"""Row ids as they arrive in addresses, queries and forms (pure Python).

An id is a whole number of ASCII digits from 1 to the largest value the database's INTEGER
holds; anything else is no id. (``"²".isdigit()`` is true and ``int("²")`` fails; a number past
the column's range made the database fail: both were 500s.)
"""

from __future__ import annotations

# PostgreSQL's INTEGER, SQLAlchemy's Integer: no row has a larger id
MAX_ID = 2**31 - 1


def parse_id(raw) -> int | None:
    text = "" if raw is None else str(raw).strip()
    if not text or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
