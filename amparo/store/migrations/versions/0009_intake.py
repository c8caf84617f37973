"""secure intake: intake keys, field devices, sealed submissions, submission rate

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_keys',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('private_ct', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_keys')),
    sa.UniqueConstraint('public_key', name=op.f('uq_intake_keys_public_key'))
    )
    op.create_table('intake_devices',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('label_ct', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_devices')),
    sa.UniqueConstraint('public_key', name=op.f('uq_intake_devices_public_key'))
    )
    op.create_table('intake_submissions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('sealed_ct', sa.LargeBinary(), nullable=False),
    sa.Column('device_key', sa.LargeBinary(), nullable=True),
    sa.Column('quarantine', sa.String(length=40), nullable=True),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('receipt_hash', sa.String(length=64), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('reason_ct', sa.LargeBinary(), nullable=True),
    sa.Column('incident_id', sa.String(length=32), nullable=True),
    sa.Column('defender_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['key_id'], ['intake_keys.id'], name=op.f('fk_intake_submissions_key_id_intake_keys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_submissions')),
    sa.UniqueConstraint('receipt_hash', name=op.f('uq_intake_submissions_receipt_hash'))
    )
    with op.batch_alter_table('intake_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_submissions_key_id'), ['key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_submissions_received_at'), ['received_at'], unique=False)

    op.create_table('intake_rate',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_intake_rate'))
    )


def downgrade() -> None:
    op.drop_table('intake_rate')
    with op.batch_alter_table('intake_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_submissions_received_at'))
        batch_op.drop_index(batch_op.f('ix_intake_submissions_key_id'))

    op.drop_table('intake_submissions')
    op.drop_table('intake_devices')
    op.drop_table('intake_keys')
