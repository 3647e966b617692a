"""follow-up (回头看) visits to paid cases

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 23:02:49.818558

One new table.  A follow-up row is append-only, like an inspection (0004): triggers refuse
UPDATE and DELETE on both databases, so a recorded result (which may stop the running
subsidy) can only be superseded by a later visit, never rewritten.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER follow_ups_no_update BEFORE UPDATE ON follow_ups
       BEGIN SELECT RAISE(ABORT, 'follow-up visits are immutable'); END""",
    """CREATE TRIGGER follow_ups_no_delete BEFORE DELETE ON follow_ups
       BEGIN SELECT RAISE(ABORT, 'follow-up visits are immutable'); END""",
]
POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION follow_ups_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'follow-up visits are immutable'; END $$""",
    """CREATE TRIGGER follow_ups_no_update_delete BEFORE UPDATE OR DELETE ON follow_ups
       FOR EACH ROW EXECUTE FUNCTION follow_ups_immutable()""",
]


def upgrade():
    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("result = 'ok' OR (note IS NOT NULL AND note <> '')", name=op.f('ck_follow_ups_note')),
    sa.CheckConstraint("result IN ('ok','rebound','device_removed','house_empty')", name=op.f('ck_follow_ups_result')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_follow_ups_household_id_households')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_follow_ups_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_household_id'), ['household_id'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    # dropping the table drops its triggers; PostgreSQL keeps the function unless told
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_ups_household_id'))

    op.drop_table('follow_ups')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION follow_ups_immutable()")
