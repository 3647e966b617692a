"""recoveries (追回) of a paid equipment subsidy, their receipts, and the policy's recovery period

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-04 03:49:24.858473

Two new tables; ``subsidy_policies.recovery_seasons`` (nullable: no recovery) with its CHECK,
in batch mode (SQLite recreates the table; it has no triggers).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recoveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('recovered_fen', sa.Integer(), nullable=False),
    sa.Column('waived_fen', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('window_ends', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=False),
    sa.Column('waiver_reason', sa.Text(), nullable=True),
    sa.Column('waiver_requested_by_id', sa.Integer(), nullable=True),
    sa.Column('waiver_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('waiver_decided_by_id', sa.Integer(), nullable=True),
    sa.Column('waiver_decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("state <> 'recovered' OR recovered_fen = amount_fen", name=op.f('ck_recoveries_recovered_in_full')),
    sa.CheckConstraint("state IN ('open','partially_recovered','waive_requested','recovered','waived')", name=op.f('ck_recoveries_state')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_recoveries_amount')),
    sa.CheckConstraint('recovered_fen >= 0 AND recovered_fen <= amount_fen', name=op.f('ck_recoveries_recovered')),
    sa.CheckConstraint('waived_fen >= 0 AND recovered_fen + waived_fen <= amount_fen', name=op.f('ck_recoveries_waived')),
    sa.CheckConstraint('waiver_decided_by_id IS NULL OR waiver_decided_by_id <> waiver_requested_by_id', name=op.f('ck_recoveries_maker_checker')),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_recoveries_follow_up_id_follow_ups')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_recoveries_household_id_households')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_recoveries_opened_by_id_users')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_recoveries_payment_id_payments')),
    sa.ForeignKeyConstraint(['policy_id'], ['subsidy_policies.id'], name=op.f('fk_recoveries_policy_id_subsidy_policies')),
    sa.ForeignKeyConstraint(['waiver_decided_by_id'], ['users.id'], name=op.f('fk_recoveries_waiver_decided_by_id_users')),
    sa.ForeignKeyConstraint(['waiver_requested_by_id'], ['users.id'], name=op.f('fk_recoveries_waiver_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recoveries')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_recoveries_payment_id'))
    )
    with op.batch_alter_table('recoveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recoveries_household_id'), ['household_id'], unique=False)
        batch_op.create_index('uq_recoveries_worked_household', ['household_id'], unique=True, sqlite_where=sa.text("state IN ('open','partially_recovered','waive_requested')"), postgresql_where=sa.text("state IN ('open','partially_recovered','waive_requested')"))

    op.create_table('recovery_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recovery_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_recovery_receipts_amount')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_recovery_receipts_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['recovery_id'], ['recoveries.id'], name=op.f('fk_recovery_receipts_recovery_id_recoveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_receipts'))
    )
    with op.batch_alter_table('recovery_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_receipts_recovery_id'), ['recovery_id'], unique=False)

    with op.batch_alter_table('subsidy_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recovery_seasons', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_subsidy_policies_recovery_seasons'),
            'recovery_seasons IS NULL OR recovery_seasons BETWEEN 1 AND 10')



def downgrade():
    with op.batch_alter_table('subsidy_policies', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_subsidy_policies_recovery_seasons'), type_='check')
        batch_op.drop_column('recovery_seasons')

    with op.batch_alter_table('recovery_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_receipts_recovery_id'))

    op.drop_table('recovery_receipts')
    with op.batch_alter_table('recoveries', schema=None) as batch_op:
        batch_op.drop_index('uq_recoveries_worked_household', sqlite_where=sa.text("state IN ('open','partially_recovered','waive_requested')"), postgresql_where=sa.text("state IN ('open','partially_recovered','waive_requested')"))
        batch_op.drop_index(batch_op.f('ix_recoveries_household_id'))

    op.drop_table('recoveries')
