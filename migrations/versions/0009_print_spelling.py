"""print spelling (印刷用名) of the head's name on households

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 01:30:00.000000

Two nullable columns, added and dropped in place (ALTER TABLE … ADD / DROP COLUMN, no batch
copy): recreating households on SQLite would drop its count triggers (0002).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('households', sa.Column('print_name', sa.String(length=50), nullable=True))
    op.add_column('households', sa.Column('print_name_reason', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('households', 'print_name_reason')
    op.drop_column('households', 'print_name')
