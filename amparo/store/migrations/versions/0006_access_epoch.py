"""an access epoch bumped by every change to case grants or group membership

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:10:00

Servers cache each user's grants between requests and compare this one number first: a
revocation still takes effect at the very next request, without loading thousands of grants
every time. Database triggers bump it, so no code path that changes grants can forget to.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

WATCHED = ("case_grants", "group_members")
BUMP = "UPDATE access_epoch SET epoch = epoch + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        'access_epoch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('epoch', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_epoch')),
    )
    op.execute("INSERT INTO access_epoch (id, epoch) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_epoch_{event.lower()} AFTER {event} ON "
                           f"{table} BEGIN {BUMP}; END")
    else:
        op.execute("CREATE FUNCTION bump_access_epoch() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN {BUMP}; RETURN NULL; END $$")
        for table in WATCHED:
            op.execute(f"CREATE TRIGGER {table}_epoch AFTER INSERT OR UPDATE OR DELETE OR "
                       f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
                       "bump_access_epoch()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_epoch_{event}")
    else:
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_epoch ON {table}")
        op.execute("DROP FUNCTION IF EXISTS bump_access_epoch()")
    op.drop_table('access_epoch')
