"""installations, inspection assignments, inspections, uploads, certificates and their serial counters

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:52:16.060291

Only new tables: the households table (and its count triggers, 0002) is not touched.
Triggers make the rules that must never break hold in the database itself: inspections are
never updated or deleted; uploads are never deleted and are attached to an inspection at most
once; an issued certificate is never deleted, its content never changes, its PDF is stored
once and it is revoked once.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_FROZEN = ("serial", "county_code", "year", "sequence", "household_id", "inspection_id",
           "issued_at", "issued_by_id")
_UPLOAD_FIXED = ("household_id", "kind", "path", "thumb_path", "sha256", "content_type",
                 "size", "width", "height", "taken_at", "uploaded_by_id", "uploaded_at")

SQLITE_TRIGGERS = [
    """CREATE TRIGGER inspections_no_update BEFORE UPDATE ON inspections
       BEGIN SELECT RAISE(ABORT, 'inspections are immutable'); END""",
    """CREATE TRIGGER inspections_no_delete BEFORE DELETE ON inspections
       BEGIN SELECT RAISE(ABORT, 'inspections are immutable'); END""",
    """CREATE TRIGGER uploads_no_delete BEFORE DELETE ON uploads
       BEGIN SELECT RAISE(ABORT, 'uploads are never deleted'); END""",
    f"""CREATE TRIGGER uploads_attach_once BEFORE UPDATE ON uploads
       WHEN OLD.inspection_id IS NOT NULL OR NEW.id IS NOT OLD.id
         OR {' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in _UPLOAD_FIXED)}
       BEGIN SELECT RAISE(ABORT, 'an upload is attached to an inspection once, and never changed'); END""",
    """CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates
       BEGIN SELECT RAISE(ABORT, 'certificates are never deleted'); END""",
    f"""CREATE TRIGGER certificates_frozen BEFORE UPDATE ON certificates
       WHEN NEW.id IS NOT OLD.id OR NEW.content IS NOT OLD.content
         OR {' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in _FROZEN)}
         OR (OLD.pdf_sha256 IS NOT NULL AND (NEW.pdf_sha256 IS NOT OLD.pdf_sha256
             OR NEW.pdf_path IS NOT OLD.pdf_path OR NEW.pdf_rendered_at IS NOT OLD.pdf_rendered_at))
         OR (OLD.revoked_at IS NOT NULL AND (NEW.revoked_at IS NOT OLD.revoked_at
             OR NEW.revoked_by_id IS NOT OLD.revoked_by_id OR NEW.revoke_reason IS NOT OLD.revoke_reason))
       BEGIN SELECT RAISE(ABORT, 'an issued certificate cannot be changed'); END""",
]

POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION inspections_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'inspections are immutable'; END $$""",
    """CREATE TRIGGER inspections_no_update_delete BEFORE UPDATE OR DELETE ON inspections
       FOR EACH ROW EXECUTE FUNCTION inspections_immutable()""",
    f"""CREATE FUNCTION uploads_attach_once() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'uploads are never deleted'; END IF;
         IF OLD.inspection_id IS NOT NULL
            OR (NEW.id, {', '.join(f'NEW.{c}' for c in _UPLOAD_FIXED)})
               IS DISTINCT FROM (OLD.id, {', '.join(f'OLD.{c}' for c in _UPLOAD_FIXED)}) THEN
           RAISE EXCEPTION 'an upload is attached to an inspection once, and never changed';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER uploads_attach_once BEFORE UPDATE OR DELETE ON uploads
       FOR EACH ROW EXECUTE FUNCTION uploads_attach_once()""",
    f"""CREATE FUNCTION certificates_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'certificates are never deleted'; END IF;
         IF (NEW.id, NEW.content::text, {', '.join(f'NEW.{c}' for c in _FROZEN)})
              IS DISTINCT FROM (OLD.id, OLD.content::text, {', '.join(f'OLD.{c}' for c in _FROZEN)})
            OR (OLD.pdf_sha256 IS NOT NULL AND (NEW.pdf_sha256, NEW.pdf_path, NEW.pdf_rendered_at)
                IS DISTINCT FROM (OLD.pdf_sha256, OLD.pdf_path, OLD.pdf_rendered_at))
            OR (OLD.revoked_at IS NOT NULL AND (NEW.revoked_at, NEW.revoked_by_id, NEW.revoke_reason)
                IS DISTINCT FROM (OLD.revoked_at, OLD.revoked_by_id, OLD.revoke_reason)) THEN
           RAISE EXCEPTION 'an issued certificate cannot be changed';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER certificates_frozen BEFORE UPDATE OR DELETE ON certificates
       FOR EACH ROW EXECUTE FUNCTION certificates_frozen()""",
]
POSTGRESQL_FUNCTIONS = ("inspections_immutable", "uploads_attach_once", "certificates_frozen")


def _create_triggers():
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('certificate_counters',
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_sequence', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'year', name=op.f('pk_certificate_counters'))
    )
    op.create_table('inspection_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_inspection_assignments_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_inspection_assignments_household_id_households')),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], name=op.f('fk_inspection_assignments_inspector_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_assignments')),
    sa.UniqueConstraint('household_id', name=op.f('uq_inspection_assignments_household_id'))
    )
    with op.batch_alter_table('inspection_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_assignments_inspector_visit', ['inspector_id', 'visit_date'], unique=False)

    op.create_table('installations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('conversion_type', sa.String(length=10), nullable=False),
    sa.Column('device_kind', sa.String(length=16), nullable=False),
    sa.Column('brand', sa.String(length=60), nullable=False),
    sa.Column('model', sa.String(length=60), nullable=False),
    sa.Column('factory_serial', sa.String(length=60), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('rated_power', sa.Integer(), nullable=False),
    sa.Column('invoice_amount', sa.Integer(), nullable=False),
    sa.Column('installer', sa.String(length=100), nullable=False),
    sa.Column('install_date', sa.Date(), nullable=False),
    sa.Column('meter_no', sa.String(length=40), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("conversion_type IN ('gas','electric')", name=op.f('ck_installations_conversion_type')),
    sa.CheckConstraint("device_kind IN ('gas_boiler','heat_pump','storage_heater','direct_heater','other_electric')", name=op.f('ck_installations_device_kind')),
    sa.CheckConstraint('invoice_amount > 0', name=op.f('ck_installations_invoice_amount')),
    sa.CheckConstraint('rated_power > 0', name=op.f('ck_installations_rated_power')),
    sa.CheckConstraint('units BETWEEN 1 AND 20', name=op.f('ck_installations_units')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_installations_household_id_households')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_installations_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_installations_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installations')),
    sa.UniqueConstraint('household_id', name=op.f('uq_installations_household_id'))
    )
    with op.batch_alter_table('installations', schema=None) as batch_op:
        batch_op.create_index('ix_installations_factory_serial', ['factory_serial'], unique=False)
        batch_op.create_index('ix_installations_meter_no', ['meter_no'], unique=False)

    op.create_table('inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('installation_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=4), nullable=False),
    sa.Column('conversion_type', sa.String(length=10), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('stoves_registered', sa.Integer(), nullable=False),
    sa.Column('stoves_removed', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('other_inspectors', sa.String(length=100), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('inspected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('installation_snapshot', sa.JSON(), nullable=False),
    sa.CheckConstraint("conversion_type IN ('gas','electric')", name=op.f('ck_inspections_conversion_type')),
    sa.CheckConstraint("result IN ('pass','fail')", name=op.f('ck_inspections_result')),
    sa.CheckConstraint('stoves_removed BETWEEN 0 AND 20', name=op.f('ck_inspections_stoves_removed')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_inspections_household_id_households')),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], name=op.f('fk_inspections_inspector_id_users')),
    sa.ForeignKeyConstraint(['installation_id'], ['installations.id'], name=op.f('fk_inspections_installation_id_installations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_household_id'), ['household_id'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=24), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('pdf_path', sa.String(length=200), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('pdf_rendered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_certificates_household_id_households')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_certificates_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_certificates_issued_by_id_users')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_certificates_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('county_code', 'year', 'sequence', name='county_year_sequence'),
    sa.UniqueConstraint('inspection_id', name=op.f('uq_certificates_inspection_id')),
    sa.UniqueConstraint('serial', name=op.f('uq_certificates_serial'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_household_id'), ['household_id'], unique=False)
        batch_op.create_index('uq_certificates_current_household', ['household_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.create_table('uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('thumb_path', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("content_type IN ('image/jpeg','image/png')", name=op.f('ck_uploads_content_type')),
    sa.CheckConstraint("kind IN ('device_with_head','stove_site','application_scan','id_card','bank_card')", name=op.f('ck_uploads_kind')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_uploads_household_id_households')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_uploads_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_uploads_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index('ix_uploads_household_kind', ['household_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_inspection_id'), ['inspection_id'], unique=False)

    # ### end Alembic commands ###
    _create_triggers()


def downgrade():
    # dropping a table drops its triggers; PostgreSQL keeps the functions unless told
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_inspection_id'))
        batch_op.drop_index('ix_uploads_household_kind')

    op.drop_table('uploads')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('uq_certificates_current_household', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_certificates_household_id'))

    op.drop_table('certificates')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspections_household_id'))

    op.drop_table('inspections')
    with op.batch_alter_table('installations', schema=None) as batch_op:
        batch_op.drop_index('ix_installations_meter_no')
        batch_op.drop_index('ix_installations_factory_serial')

    op.drop_table('installations')
    with op.batch_alter_table('inspection_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_assignments_inspector_visit')

    op.drop_table('inspection_assignments')
    op.drop_table('certificate_counters')
    # ### end Alembic commands ###
    if op.get_bind().dialect.name == "postgresql":
        for name in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")
