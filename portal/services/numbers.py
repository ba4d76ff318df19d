"""Taking the next form number in the numbered row's own transaction (docs/product.md §3).

One atomic upsert per number, ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: on PostgreSQL the
counter row stays locked until the transaction ends, so concurrent submissions queue behind it and
a rolled-back submission gives its number back; SQLite ignores FOR UPDATE but serialises writers
(our transactions begin IMMEDIATE), so the same statement is gapless there too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.domain.numbers import desk_day, format_number
from portal.models import NumberSequence


def next_number(session: Session, prefix: str, now: datetime, timezone: str) -> str:
    day = desk_day(now, timezone)
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    table = NumberSequence.__table__
    stmt = (
        insert(table)
        .values(prefix=prefix, day=day, last_value=1)
        .on_conflict_do_update(
            index_elements=[table.c.prefix, table.c.day],
            set_={"last_value": table.c.last_value + 1},
        )
        .returning(table.c.last_value)
    )
    value = session.execute(stmt).scalar_one()
    return format_number(prefix, day, value)
