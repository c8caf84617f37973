"""act facts: a covering index for escalation patterns

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:40:00

Escalation patterns read each defender's acts in date order with their modality, act type,
case and confidentiality. The index of 0010 on (victim, act day) made every one of those
rows a table lookup: 9 s on SQLite for a million acts. This one holds all six columns, so
the patterns read the index alone; it replaces the old one, whose columns it begins with.
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

COLUMNS = ['victim_defender_id', 'act_day', 'modality', 'act_type', 'case_id', 'confidential']


# Plain CREATE/DROP INDEX, not a batch operation: on SQLite a batch may copy the table, and
# the copy would lose the triggers that keep act_facts in step.
def upgrade() -> None:
    op.create_index('ix_act_facts_escalation', 'act_facts', COLUMNS, unique=False)
    op.drop_index('ix_act_facts_victim_defender_id_act_day', table_name='act_facts')


def downgrade() -> None:
    op.create_index('ix_act_facts_victim_defender_id_act_day', 'act_facts',
                    ['victim_defender_id', 'act_day'], unique=False)
    op.drop_index('ix_act_facts_escalation', table_name='act_facts')
