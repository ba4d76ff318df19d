"""Print a queue cursor pointing 90% deep into the default view (all open, newest update first)."""

import os

from sqlalchemy import text

from portal.db import make_engine
from portal.services.queue import encode_cursor

engine = make_engine(os.environ["DATABASE_URL"])
with engine.connect() as conn:
    open_count = conn.execute(
        text(
            "SELECT count(*) FROM service_requests WHERE status IN "
            "('submitted','pending_assignment','in_progress','awaiting_customer','pending_acceptance')"
        )
    ).scalar_one()
    row = conn.execute(
        text(
            "SELECT updated_at, id FROM service_requests WHERE status IN "
            "('submitted','pending_assignment','in_progress','awaiting_customer','pending_acceptance') "
            "ORDER BY updated_at DESC, id DESC OFFSET :o LIMIT 1"
        ),
        {"o": int(open_count * 0.9)},
    ).one()
print(encode_cursor("updated", False, [row.updated_at, row.id]))
