"""household imports: uploaded files, their preview and outcome; one import per file

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 19:53:34.074544

Only a new table: the households table (and its count triggers, 0002) is not touched.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

IMPORTED = sa.text("status = 'imported'")


def upgrade():
    op.create_table('household_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('stored_path', sa.String(length=255), nullable=True),
    sa.Column('programme_year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('duplicate_count', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('imported_count', sa.Integer(), nullable=False),
    sa.Column('preview', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('previewed','imported','rejected')", name=op.f('ck_household_imports_status')),
    sa.ForeignKeyConstraint(['county_id'], ['areas.id'], name=op.f('fk_household_imports_county_id_areas')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_household_imports_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_imports'))
    )
    op.create_index(op.f('ix_household_imports_sha256'), 'household_imports', ['sha256'],
                    unique=False)
    op.create_index('ix_household_imports_uploaded_by_id_id', 'household_imports',
                    ['uploaded_by_id', 'id'], unique=False)
    # a file is imported once: two simultaneous confirmations of it cannot both commit
    op.create_index('uq_household_imports_sha256_imported', 'household_imports', ['sha256'],
                    unique=True, sqlite_where=IMPORTED, postgresql_where=IMPORTED)


def downgrade():
    op.drop_index('uq_household_imports_sha256_imported', table_name='household_imports',
                  sqlite_where=IMPORTED, postgresql_where=IMPORTED)
    op.drop_index('ix_household_imports_uploaded_by_id_id', table_name='household_imports')
    op.drop_index(op.f('ix_household_imports_sha256'), table_name='household_imports')
    op.drop_table('household_imports')
