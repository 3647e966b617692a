"""household counts per village, year, type and state kept by triggers; id_hash search index; township index covers the county scope

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:28:22.747222

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


# NOTE for later migrations: a SQLite batch operation that RECREATES the households table drops
# these triggers; such a migration must run create_count_triggers() again.

KEY = "village_id, programme_year, conversion_type, state"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER household_counts_ins AFTER INSERT ON households BEGIN
        INSERT INTO household_counts ({KEY}, township_id, county_id, n)
        VALUES (NEW.village_id, NEW.programme_year, NEW.conversion_type, NEW.state,
                NEW.township_id, NEW.county_id, 1)
        ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1;
    END""",
    f"""CREATE TRIGGER household_counts_upd
        AFTER UPDATE OF village_id, programme_year, conversion_type, state ON households
        WHEN OLD.village_id IS NOT NEW.village_id OR OLD.programme_year IS NOT NEW.programme_year
          OR OLD.conversion_type IS NOT NEW.conversion_type OR OLD.state IS NOT NEW.state
    BEGIN
        UPDATE household_counts SET n = n - 1
         WHERE village_id = OLD.village_id AND programme_year = OLD.programme_year
           AND conversion_type = OLD.conversion_type AND state = OLD.state;
        INSERT INTO household_counts ({KEY}, township_id, county_id, n)
        VALUES (NEW.village_id, NEW.programme_year, NEW.conversion_type, NEW.state,
                NEW.township_id, NEW.county_id, 1)
        ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER household_counts_del AFTER DELETE ON households BEGIN
        UPDATE household_counts SET n = n - 1
         WHERE village_id = OLD.village_id AND programme_year = OLD.programme_year
           AND conversion_type = OLD.conversion_type AND state = OLD.state;
    END""",
]

POSTGRESQL_TRIGGERS = [
    f"""CREATE FUNCTION household_counts_add(v integer, y integer, ct text, st text,
                                             t integer, c integer, delta integer)
        RETURNS void LANGUAGE sql AS $$
        INSERT INTO household_counts ({KEY}, township_id, county_id, n)
        VALUES (v, y, ct, st, t, c, delta)
        ON CONFLICT ({KEY}) DO UPDATE SET n = household_counts.n + EXCLUDED.n $$""",
    """CREATE FUNCTION household_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM household_counts_add(NEW.village_id, NEW.programme_year,
                NEW.conversion_type, NEW.state, NEW.township_id, NEW.county_id, 1);
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM household_counts_add(OLD.village_id, OLD.programme_year,
                OLD.conversion_type, OLD.state, OLD.township_id, OLD.county_id, -1);
        ELSIF (OLD.village_id, OLD.programme_year, OLD.conversion_type, OLD.state)
              IS DISTINCT FROM (NEW.village_id, NEW.programme_year, NEW.conversion_type,
                                NEW.state) THEN
            -- touch the two counter rows in key order, so that two opposite moves in the
            -- same village (return / resubmit) can never wait on each other in a cycle
            IF (OLD.village_id, OLD.programme_year, OLD.conversion_type, OLD.state)
               < (NEW.village_id, NEW.programme_year, NEW.conversion_type, NEW.state) THEN
                PERFORM household_counts_add(OLD.village_id, OLD.programme_year,
                    OLD.conversion_type, OLD.state, OLD.township_id, OLD.county_id, -1);
                PERFORM household_counts_add(NEW.village_id, NEW.programme_year,
                    NEW.conversion_type, NEW.state, NEW.township_id, NEW.county_id, 1);
            ELSE
                PERFORM household_counts_add(NEW.village_id, NEW.programme_year,
                    NEW.conversion_type, NEW.state, NEW.township_id, NEW.county_id, 1);
                PERFORM household_counts_add(OLD.village_id, OLD.programme_year,
                    OLD.conversion_type, OLD.state, OLD.township_id, OLD.county_id, -1);
            END IF;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER household_counts_sync AFTER INSERT OR UPDATE OR DELETE ON households
        FOR EACH ROW EXECUTE FUNCTION household_counts_sync()""",
]

BACKFILL = f"""INSERT INTO household_counts ({KEY}, township_id, county_id, n)
    SELECT {KEY}, township_id, county_id, count(*) FROM households
    GROUP BY {KEY}, township_id, county_id"""


def create_count_triggers():
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def drop_count_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER household_counts_sync ON households")
        op.execute("DROP FUNCTION household_counts_sync()")
        op.execute("DROP FUNCTION household_counts_add(integer, integer, text, text, integer, "
                   "integer, integer)")
    else:
        for name in ("household_counts_ins", "household_counts_upd", "household_counts_del"):
            op.execute(f"DROP TRIGGER {name}")


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('household_counts',
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('programme_year', sa.Integer(), nullable=False),
    sa.Column('conversion_type', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['areas.id'], name=op.f('fk_household_counts_village_id_areas')),
    sa.PrimaryKeyConstraint('village_id', 'programme_year', 'conversion_type', 'state', name=op.f('pk_household_counts'))
    )
    with op.batch_alter_table('household_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_counts_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_counts_township_id'), ['township_id'], unique=False)

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_township_state_id'))
        batch_op.create_index('ix_households_id_hash', ['id_hash'], unique=False)
        batch_op.create_index('ix_households_township_state_county_id', ['township_id', 'state', 'county_id', 'id'], unique=False)

    # ### end Alembic commands ###
    op.execute(BACKFILL)
    create_count_triggers()


def downgrade():
    drop_count_triggers()
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index('ix_households_township_state_county_id')
        batch_op.drop_index('ix_households_id_hash')
        batch_op.create_index(batch_op.f('ix_households_township_state_id'), ['township_id', 'state', 'id'], unique=False)

    with op.batch_alter_table('household_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_counts_township_id'))
        batch_op.drop_index(batch_op.f('ix_household_counts_county_id'))

    op.drop_table('household_counts')
    # ### end Alembic commands ###
