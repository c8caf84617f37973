"""protection work: case fields, risk assessments, measures, urgent actions, check-ins, notifications

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checkin_schedules',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('defender_id', sa.String(length=32), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('grace_minutes', sa.String(length=200), nullable=False),
    sa.Column('chain_ct', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_checkin_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_step', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_checkin_schedules_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_schedules')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_checkin_schedules_token_hash'))
    )
    with op.batch_alter_table('checkin_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_schedules_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_schedules_defender_id'), ['defender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_schedules_next_due_at'), ['next_due_at'], unique=False)

    op.create_table('notification_prefs',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('email_ct', sa.LargeBinary(), nullable=True),
    sa.Column('webhook_ct', sa.LargeBinary(), nullable=True),
    sa.Column('events', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_prefs_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_prefs'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('recipient_ct', sa.LargeBinary(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('link', sa.String(length=400), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notifications_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_next_attempt_at'), ['next_attempt_at'], unique=False)

    op.create_table('protection_measures',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('driver', sa.String(length=40), nullable=True),
    sa.Column('description_ct', sa.LargeBinary(), nullable=False),
    sa.Column('owner_ct', sa.LargeBinary(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('priority', sa.String(length=40), nullable=False),
    sa.Column('outcome_ct', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_protection_measures_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protection_measures'))
    )
    with op.batch_alter_table('protection_measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_protection_measures_case_id'), ['case_id'], unique=False)

    op.create_table('risk_assessments',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('defender_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('scores', sa.Text(), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('threat', sa.Float(), nullable=False),
    sa.Column('vulnerability', sa.Float(), nullable=False),
    sa.Column('capacity', sa.Float(), nullable=False),
    sa.Column('risk_index', sa.Float(), nullable=False),
    sa.Column('computed_band', sa.String(length=40), nullable=False),
    sa.Column('band', sa.String(length=40), nullable=False),
    sa.Column('overrides', sa.Text(), nullable=False),
    sa.Column('cutpoints', sa.String(length=80), nullable=False),
    sa.Column('urgent_action', sa.Boolean(), nullable=False),
    sa.Column('officer_band_reason_ct', sa.LargeBinary(), nullable=True),
    sa.Column('note_ct', sa.LargeBinary(), nullable=True),
    sa.Column('next_review', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_risk_assessments_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_assessments')),
    sa.UniqueConstraint('defender_id', 'version', name=op.f('uq_risk_assessments_defender_id_version'))
    )
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_assessments_case_id'), ['case_id'], unique=False)

    op.create_table('urgent_actions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('steps', sa.Text(), nullable=False),
    sa.Column('note_ct', sa.LargeBinary(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=80), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_urgent_actions_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_urgent_actions'))
    )
    with op.batch_alter_table('urgent_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_urgent_actions_case_id'), ['case_id'], unique=False)

    op.create_table('checkins',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('schedule_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('note_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_checkins_case_id_cases')),
    sa.ForeignKeyConstraint(['schedule_id'], ['checkin_schedules.id'], name=op.f('fk_checkins_schedule_id_checkin_schedules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins'))
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_schedule_id'), ['schedule_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_defender_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('officer_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('protection_status', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('review_due')
        batch_op.drop_column('protection_status')
        batch_op.drop_column('priority')
        batch_op.drop_column('officer_id')
        batch_op.drop_column('subject_defender_id')

    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkins_schedule_id'))

    op.drop_table('checkins')
    with op.batch_alter_table('urgent_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_urgent_actions_case_id'))

    op.drop_table('urgent_actions')
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_assessments_case_id'))

    op.drop_table('risk_assessments')
    with op.batch_alter_table('protection_measures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_protection_measures_case_id'))

    op.drop_table('protection_measures')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_notifications_case_id'))

    op.drop_table('notifications')
    op.drop_table('notification_prefs')
    with op.batch_alter_table('checkin_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_schedules_next_due_at'))
        batch_op.drop_index(batch_op.f('ix_checkin_schedules_defender_id'))
        batch_op.drop_index(batch_op.f('ix_checkin_schedules_case_id'))

    op.drop_table('checkin_schedules')
