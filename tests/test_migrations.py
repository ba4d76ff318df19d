"""The Alembic migrations build exactly the schema the models describe, on this backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.db import make_engine
from portal.models import Base


def test_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_queue_filters_have_composite_indexes(database_url):
    from sqlalchemy import inspect

    engine = make_engine(database_url)
    indexes = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("service_requests")}
    engine.dispose()
    for leading in ("status", "handler_id", "organisation_id", "type", "contact_id"):
        assert any(cols[0] == leading and len(cols) >= 3 for cols in indexes), leading
