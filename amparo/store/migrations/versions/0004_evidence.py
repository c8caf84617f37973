"""evidence files and chain of custody

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('incident_id', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('name_ct', sa.LargeBinary(), nullable=False),
    sa.Column('description_ct', sa.LargeBinary(), nullable=True),
    sa.Column('url_ct', sa.LargeBinary(), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('media_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256_ct', sa.LargeBinary(), nullable=False),
    sa.Column('original_blob', sa.String(length=32), nullable=False),
    sa.Column('shared_status', sa.String(length=40), nullable=False),
    sa.Column('shared_media_type', sa.String(length=120), nullable=True),
    sa.Column('shared_size', sa.BigInteger(), nullable=True),
    sa.Column('shared_sha256_ct', sa.LargeBinary(), nullable=True),
    sa.Column('shared_blob', sa.String(length=32), nullable=True),
    sa.Column('removed_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_evidence_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_incident_id'), ['incident_id'], unique=False)

    op.create_table('custody_log',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('evidence_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('sha256_ct', sa.LargeBinary(), nullable=True),
    sa.Column('shared_sha256_ct', sa.LargeBinary(), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('entry_mac', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_custody_log_case_id_cases')),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_custody_log_evidence_id_evidence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custody_log')),
    sa.UniqueConstraint('evidence_id', 'seq', name=op.f('uq_custody_log_evidence_id_seq'))
    )
    with op.batch_alter_table('custody_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_log_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('custody_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custody_log_case_id'))

    op.drop_table('custody_log')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_incident_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_case_id'))

    op.drop_table('evidence')
