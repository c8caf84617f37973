"""online-abuse triage: batches, messages, campaigns; risk-review flags

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('risk_flags',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('defender_id', sa.String(length=32), nullable=False),
    sa.Column('source_kind', sa.String(length=40), nullable=False),
    sa.Column('source_id', sa.String(length=32), nullable=False),
    sa.Column('incident_id', sa.String(length=32), nullable=True),
    sa.Column('reason_ct', sa.LargeBinary(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raised_by', sa.String(length=80), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cleared_by', sa.String(length=80), nullable=True),
    sa.Column('clear_note_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_risk_flags_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_flags'))
    )
    with op.batch_alter_table('risk_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_flags_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_flags_defender_id'), ['defender_id'], unique=False)

    op.create_table('triage_batches',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('defender_id', sa.String(length=32), nullable=False),
    sa.Column('source_name_ct', sa.LargeBinary(), nullable=False),
    sa.Column('skipped_ct', sa.LargeBinary(), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('abusive', sa.Integer(), nullable=False),
    sa.Column('campaigns', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.String(length=400), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_triage_batches_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_batches'))
    )
    with op.batch_alter_table('triage_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_batches_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_triage_batches_defender_id'), ['defender_id'], unique=False)

    op.create_table('triage_campaigns',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('similarity', sa.Float(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('accounts', sa.Integer(), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('representative_id', sa.String(length=32), nullable=True),
    sa.Column('reasons_ct', sa.LargeBinary(), nullable=True),
    sa.Column('authors_ct', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('incident_id', sa.String(length=32), nullable=True),
    sa.Column('accepting_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['triage_batches.id'], name=op.f('fk_triage_campaigns_batch_id_triage_batches')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_triage_campaigns_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_campaigns'))
    )
    with op.batch_alter_table('triage_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_campaigns_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_triage_campaigns_case_id'), ['case_id'], unique=False)

    op.create_table('triage_messages',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.String(length=32), nullable=True),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('source_id_ct', sa.LargeBinary(), nullable=False),
    sa.Column('text_ct', sa.LargeBinary(), nullable=False),
    sa.Column('text_sha256_ct', sa.LargeBinary(), nullable=False),
    sa.Column('author_ct', sa.LargeBinary(), nullable=True),
    sa.Column('url_ct', sa.LargeBinary(), nullable=True),
    sa.Column('reply_to_ct', sa.LargeBinary(), nullable=True),
    sa.Column('platform', sa.String(length=40), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('urgency', sa.Integer(), nullable=False),
    sa.Column('categories', sa.String(length=200), nullable=False),
    sa.Column('scores', sa.Text(), nullable=False),
    sa.Column('model_scores', sa.Text(), nullable=False),
    sa.Column('reasons_ct', sa.LargeBinary(), nullable=True),
    sa.Column('doxxing_ct', sa.LargeBinary(), nullable=True),
    sa.Column('model_id', sa.String(length=400), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('relabel', sa.String(length=200), nullable=True),
    sa.Column('relabelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('relabelled_by', sa.String(length=80), nullable=True),
    sa.Column('dismiss_reason_ct', sa.LargeBinary(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.String(length=80), nullable=True),
    sa.Column('incident_id', sa.String(length=32), nullable=True),
    sa.Column('evidence_id', sa.String(length=32), nullable=True),
    sa.Column('accepting_since', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['triage_batches.id'], name=op.f('fk_triage_messages_batch_id_triage_batches')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_triage_messages_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_messages'))
    )
    with op.batch_alter_table('triage_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_messages_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_triage_messages_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_triage_messages_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_triage_messages_case_id_status_urgency', ['case_id', 'status', 'urgency'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('triage_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_triage_messages_case_id_status_urgency')
        batch_op.drop_index(batch_op.f('ix_triage_messages_case_id'))
        batch_op.drop_index(batch_op.f('ix_triage_messages_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_triage_messages_batch_id'))

    op.drop_table('triage_messages')
    with op.batch_alter_table('triage_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_campaigns_case_id'))
        batch_op.drop_index(batch_op.f('ix_triage_campaigns_batch_id'))

    op.drop_table('triage_campaigns')
    with op.batch_alter_table('triage_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_batches_defender_id'))
        batch_op.drop_index(batch_op.f('ix_triage_batches_case_id'))

    op.drop_table('triage_batches')
    with op.batch_alter_table('risk_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_flags_defender_id'))
        batch_op.drop_index(batch_op.f('ix_risk_flags_case_id'))

    op.drop_table('risk_flags')
