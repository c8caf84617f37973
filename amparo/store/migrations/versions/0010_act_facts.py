"""act facts: one narrow row of coded facets per act, maintained by triggers, for aggregates

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:00:00

See amparo/store/facts_ddl.py for why (a million acts counted in one scan, not a join per
act) and the triggers. Existing acts are copied in one set-based statement.
"""
from alembic import op
import sqlalchemy as sa

from amparo.store import facts_ddl


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('act_facts',
    sa.Column('act_id', sa.String(length=32), nullable=False),
    sa.Column('incident_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('victim_defender_id', sa.String(length=32), nullable=True),
    sa.Column('act_type', sa.String(length=40), nullable=False),
    sa.Column('act_day', sa.Date(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=120), nullable=True),
    sa.Column('modality', sa.String(length=40), nullable=False),
    sa.Column('target_relation', sa.String(length=40), nullable=False),
    sa.Column('gender_specific', sa.String(length=40), nullable=False),
    sa.Column('gender_features', sa.String(length=400), nullable=False),
    sa.Column('gender_identity', sa.String(length=40), nullable=True),
    sa.Column('defender_kind', sa.String(length=40), nullable=True),
    sa.Column('sectors', sa.String(length=400), nullable=True),
    sa.Column('perpetrator_types', sa.String(length=400), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('act_id', name=op.f('pk_act_facts'))
    )
    dialect = op.get_bind().dialect.name
    op.execute(facts_ddl.BACKFILL(dialect))
    with op.batch_alter_table('act_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_act_facts_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_act_facts_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_act_facts_victim_defender_id_act_day'), ['victim_defender_id', 'act_day'], unique=False)
    for statement in facts_ddl.create_statements(dialect):
        op.execute(statement)


def downgrade() -> None:
    for statement in facts_ddl.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table('act_facts')
