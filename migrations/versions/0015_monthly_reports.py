"""published monthly ranking reports (月度通报): frozen PDF and XLSX, versions superseding

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-04 21:30:00
"""
from alembic import op
import sqlalchemy as sa

from heating.core.db import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'monthly_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('programme_year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('supersedes_id', sa.Integer(), nullable=True),
        sa.Column('correction_reason', sa.Text(), nullable=True),
        sa.Column('pdf_path', sa.String(length=200), nullable=False),
        sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
        sa.Column('xlsx_path', sa.String(length=200), nullable=False),
        sa.Column('xlsx_sha256', sa.String(length=64), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=False),
        sa.Column('published_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('version >= 1', name=op.f('ck_monthly_reports_version')),
        sa.CheckConstraint('(version = 1) = (supersedes_id IS NULL)',
                           name=op.f('ck_monthly_reports_supersedes')),
        sa.ForeignKeyConstraint(['county_id'], ['areas.id'],
                                name=op.f('fk_monthly_reports_county_id_areas')),
        sa.ForeignKeyConstraint(['published_by_id'], ['users.id'],
                                name=op.f('fk_monthly_reports_published_by_id_users')),
        sa.ForeignKeyConstraint(['supersedes_id'], ['monthly_reports.id'],
                                name=op.f('fk_monthly_reports_supersedes_id_monthly_reports')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_reports')),
        sa.UniqueConstraint('county_id', 'programme_year', 'month', 'version',
                            name='county_year_month_version'),
        sa.UniqueConstraint('supersedes_id', name=op.f('uq_monthly_reports_supersedes_id')),
    )


def downgrade():
    op.drop_table('monthly_reports')
