"""programme reporting: target history, programme year dates, overdue thresholds, and when
each case entered its state

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 04:00:00.000000

- ``area_targets`` keeps its history: a changed target is a new row with the date from which
  it is in force (``effective_from``); the old unique (area, year) becomes (area, year,
  effective_from).  Existing rows are in force from 1 January of their programme year.
- ``programme_years``: the county's start date and deadline of each programme year.
- ``report_settings``: the county's overdue thresholds (days).
- ``households.state_since`` (when the case entered its current state, from its latest case
  event) and ``households.confirmed_at`` (its latest confirmation after the notice period),
  read by the overdue lists.  Added in place (ALTER TABLE … ADD COLUMN): recreating
  households on SQLite would drop its count triggers (0002); hence nullable.
"""
from alembic import op
import sqlalchemy as sa

from heating.core.db import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('area_targets') as batch:
        batch.add_column(sa.Column('effective_from', sa.Date(), nullable=True))
        batch.add_column(sa.Column('set_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('set_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('reason', sa.Text(), nullable=True))
    op.execute("UPDATE area_targets SET effective_from = "
               + ("make_date(programme_year, 1, 1)" if op.get_bind().dialect.name == "postgresql"
                  else "printf('%04d-01-01', programme_year)"))
    with op.batch_alter_table('area_targets') as batch:
        batch.alter_column('effective_from', existing_type=sa.Date(), nullable=False)
        batch.drop_constraint('area_year', type_='unique')
        batch.create_unique_constraint('area_year_from',
                                       ['area_id', 'programme_year', 'effective_from'])
        batch.create_foreign_key('fk_area_targets_set_by_id_users', 'users', ['set_by_id'],
                                 ['id'])

    op.create_table(
        'programme_years',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('programme_year', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('deadline > starts_on', name=op.f('ck_programme_years_dates')),
        sa.ForeignKeyConstraint(['county_id'], ['areas.id'],
                                name=op.f('fk_programme_years_county_id_areas')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_programme_years_updated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_years')),
        sa.UniqueConstraint('county_id', 'programme_year',
                            name='county_year'),
    )
    op.create_table(
        'report_settings',
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('submitted_days', sa.Integer(), nullable=False),
        sa.Column('inspection_days', sa.Integer(), nullable=False),
        sa.Column('notice_days', sa.Integer(), nullable=False),
        sa.Column('unpaid_days', sa.Integer(), nullable=False),
        sa.Column('objection_days', sa.Integer(), nullable=False),
        sa.Column('repay_days', sa.Integer(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            'submitted_days BETWEEN 1 AND 365 AND inspection_days BETWEEN 1 AND 365 AND '
            'notice_days BETWEEN 1 AND 365 AND unpaid_days BETWEEN 1 AND 365 AND '
            'objection_days BETWEEN 1 AND 365 AND repay_days BETWEEN 1 AND 365',
            name=op.f('ck_report_settings_days')),
        sa.ForeignKeyConstraint(['county_id'], ['areas.id'],
                                name=op.f('fk_report_settings_county_id_areas')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_report_settings_updated_by_id_users')),
        sa.PrimaryKeyConstraint('county_id', name=op.f('pk_report_settings')),
    )

    op.add_column('households', sa.Column('state_since', UTCDateTime(), nullable=True))
    op.add_column('households', sa.Column('confirmed_at', UTCDateTime(), nullable=True))
    op.execute("UPDATE households SET state_since = (SELECT max(e.at) FROM case_events e "
               "WHERE e.household_id = households.id)")
    op.execute("UPDATE households SET confirmed_at = (SELECT max(e.at) FROM case_events e "
               "WHERE e.household_id = households.id AND e.action = 'confirm') "
               "WHERE state IN ('confirmed', 'rostered', 'paid', 'payment_failed')")
    op.create_index('ix_households_state_since', 'households',
                    ['state', 'state_since'], unique=False)


def downgrade():
    op.drop_index('ix_households_state_since', table_name='households')
    op.drop_column('households', 'confirmed_at')
    op.drop_column('households', 'state_since')
    op.drop_table('report_settings')
    op.drop_table('programme_years')
    # the latest target of each area and year stays (the history goes)
    op.execute("DELETE FROM area_targets WHERE EXISTS (SELECT 1 FROM area_targets later "
               "WHERE later.area_id = area_targets.area_id "
               "AND later.programme_year = area_targets.programme_year "
               "AND later.effective_from > area_targets.effective_from)")
    with op.batch_alter_table('area_targets') as batch:
        batch.drop_constraint('fk_area_targets_set_by_id_users', type_='foreignkey')
        batch.drop_constraint('area_year_from', type_='unique')
        batch.create_unique_constraint('area_year',
                                       ['area_id', 'programme_year'])
        batch.drop_column('reason')
        batch.drop_column('set_at')
        batch.drop_column('set_by_id')
        batch.drop_column('effective_from')
