"""installation serial and meter numbers kept as typed, compared on a normalised key

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 01:20:00.000000

``factory_serial`` and ``meter_no`` now hold what the clerk typed (``RQ-0099001``), shown and
printed as such; the new ``factory_serial_key`` / ``meter_key`` hold the normalised form
(half-width, upper case, no spaces or dashes) that duplicate checks and usage-file matching
compare, and carry the indexes.  Rows written before this revision were stored normalised, so
their key is the stored value itself.  Columns are only added (no table is recreated on
SQLite), so no trigger is lost.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('installations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('factory_serial_key', sa.String(length=60), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('meter_key', sa.String(length=40), nullable=False,
                                      server_default=''))
    op.execute("UPDATE installations SET factory_serial_key = factory_serial, meter_key = meter_no")
    with op.batch_alter_table('installations', schema=None) as batch_op:
        batch_op.drop_index('ix_installations_meter_no')
        batch_op.drop_index('ix_installations_factory_serial')
        batch_op.create_index('ix_installations_factory_serial_key', ['factory_serial_key'],
                              unique=False)
        batch_op.create_index('ix_installations_meter_key', ['meter_key'], unique=False)


def downgrade():
    # back to one normalised column each: what was typed gives way to the key
    op.execute("UPDATE installations SET factory_serial = factory_serial_key, meter_no = meter_key")
    with op.batch_alter_table('installations', schema=None) as batch_op:
        batch_op.drop_index('ix_installations_meter_key')
        batch_op.drop_index('ix_installations_factory_serial_key')
        batch_op.create_index('ix_installations_factory_serial', ['factory_serial'], unique=False)
        batch_op.create_index('ix_installations_meter_no', ['meter_no'], unique=False)
        batch_op.drop_column('meter_key')
        batch_op.drop_column('factory_serial_key')
