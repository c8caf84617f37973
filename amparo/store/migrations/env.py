"""Alembic environment: always run with a connection handed in by amparo.store.migrate."""

from alembic import context

from amparo.store.schema import metadata
from amparo.store.search_ddl import include_object

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic CLI
    raise SystemExit("run migrations through 'amparo' (amparo.store.migrate), not alembic")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
