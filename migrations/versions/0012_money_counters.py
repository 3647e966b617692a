"""the dashboard's money counters: each case's frozen equipment subsidy, summed per counter row

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:20:00

``households.frozen_fen`` is the equipment subsidy frozen on the case's live notice entry (0
while the case is on no notice): the publicity service writes it with the entry and clears it
when the entry is removed.  ``household_counts.fen`` sums it per counter row (village, year,
type, state), kept by the same triggers as ``n`` — so the dashboard's money (confirmed,
rostered, paid, failed) is read from a few hundred counter rows, never from a scan of the
cases or payments.

The overdue counts get covering indexes (county, year, state, clock, township, village) in
place of 0010's (state, state_since): equality on the first three and a range on the clock,
so the planner prefers them to the township-state index (which needs a row lookup per case).

The triggers of 0002 (SQLite, row level) and 0006 (PostgreSQL, statement level) are replaced
by the same triggers with the sum added; the counters are rebuilt from the cases.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

KEY = "village_id, programme_year, conversion_type, state"

_SQLITE_DROP = ["DROP TRIGGER IF EXISTS household_counts_ins",
                "DROP TRIGGER IF EXISTS household_counts_upd",
                "DROP TRIGGER IF EXISTS household_counts_del"]

_SQLITE_WITH_FEN = [
    f"""CREATE TRIGGER household_counts_ins AFTER INSERT ON households BEGIN
        INSERT INTO household_counts ({KEY}, township_id, county_id, n, fen)
        VALUES (NEW.village_id, NEW.programme_year, NEW.conversion_type, NEW.state,
                NEW.township_id, NEW.county_id, 1, NEW.frozen_fen)
        ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1, fen = fen + excluded.fen;
    END""",
    f"""CREATE TRIGGER household_counts_upd
        AFTER UPDATE OF village_id, programme_year, conversion_type, state, frozen_fen
        ON households
        WHEN OLD.village_id IS NOT NEW.village_id OR OLD.programme_year IS NOT NEW.programme_year
          OR OLD.conversion_type IS NOT NEW.conversion_type OR OLD.state IS NOT NEW.state
          OR OLD.frozen_fen IS NOT NEW.frozen_fen
    BEGIN
        UPDATE household_counts SET n = n - 1, fen = fen - OLD.frozen_fen
         WHERE village_id = OLD.village_id AND programme_year = OLD.programme_year
           AND conversion_type = OLD.conversion_type AND state = OLD.state;
        INSERT INTO household_counts ({KEY}, township_id, county_id, n, fen)
        VALUES (NEW.village_id, NEW.programme_year, NEW.conversion_type, NEW.state,
                NEW.township_id, NEW.county_id, 1, NEW.frozen_fen)
        ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1, fen = fen + excluded.fen;
    END""",
    """CREATE TRIGGER household_counts_del AFTER DELETE ON households BEGIN
        UPDATE household_counts SET n = n - 1, fen = fen - OLD.frozen_fen
         WHERE village_id = OLD.village_id AND programme_year = OLD.programme_year
           AND conversion_type = OLD.conversion_type AND state = OLD.state;
    END""",
]

_SQLITE_WITHOUT_FEN = [
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


def _pg_functions(with_fen: bool) -> list[str]:
    """0006's statement-level functions (one net change per counter row, in key order), with
    or without the money sum."""
    cols = "n, fen" if with_fen else "n"
    sums = "sum(delta), sum(fen)" if with_fen else "sum(delta)"
    having = "sum(delta) <> 0 OR sum(fen) <> 0" if with_fen else "sum(delta) <> 0"
    update = ("n = household_counts.n + EXCLUDED.n, fen = household_counts.fen + EXCLUDED.fen"
              if with_fen else "n = household_counts.n + EXCLUDED.n")
    old = (f"SELECT {KEY}, township_id, county_id, -1 AS delta"
           + (", -frozen_fen::bigint AS fen" if with_fen else "") + " FROM old_rows")
    new = (f"SELECT {KEY}, township_id, county_id, 1 AS delta"
           + (", frozen_fen::bigint AS fen" if with_fen else "") + " FROM new_rows")

    def apply(parts: str) -> str:
        return f"""
        INSERT INTO household_counts ({KEY}, township_id, county_id, {cols})
        SELECT {KEY}, max(township_id), max(county_id), {sums}
          FROM ({parts}) AS moved
         GROUP BY {KEY}
        HAVING {having}
         ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET {update}"""

    return [
        f"""CREATE OR REPLACE FUNCTION household_counts_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN {apply(new)}; RETURN NULL; END $$""",
        f"""CREATE OR REPLACE FUNCTION household_counts_after_update() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN {apply(old + " UNION ALL " + new)}; RETURN NULL; END $$""",
        f"""CREATE OR REPLACE FUNCTION household_counts_after_delete() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN {apply(old)}; RETURN NULL; END $$""",
    ]


_RECOUNT = [
    "DELETE FROM household_counts",
    f"""INSERT INTO household_counts ({KEY}, township_id, county_id, n, fen)
        SELECT {KEY}, max(township_id), max(county_id), count(*), sum(frozen_fen)
          FROM households GROUP BY {KEY}""",
]


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if not postgresql:
        for statement in _SQLITE_DROP:
            op.execute(statement)
    op.add_column('households', sa.Column('frozen_fen', sa.Integer(), nullable=False,
                                          server_default='0'))
    op.add_column('household_counts', sa.Column('fen', sa.BigInteger(), nullable=False,
                                                server_default='0'))
    op.drop_index('ix_households_state_since', table_name='households')
    for name, clock in (('ix_households_overdue', 'state_since'),
                        ('ix_households_unpaid', 'confirmed_at')):
        op.create_index(name, 'households', ['county_id', 'programme_year', 'state', clock,
                                              'township_id', 'village_id'], unique=False)
    if postgresql:
        # the backfill below must not run the counting triggers: the counters are rebuilt
        op.execute("ALTER TABLE households DISABLE TRIGGER household_counts_update")
    op.execute("""UPDATE households SET frozen_fen = COALESCE((
        SELECT e.amount_fen FROM notice_entries e
         WHERE e.household_id = households.id AND e.state <> 'removed'), 0)""")
    for statement in _RECOUNT:
        op.execute(statement)
    if postgresql:
        op.execute("ALTER TABLE households ENABLE TRIGGER household_counts_update")
        for statement in _pg_functions(True):
            op.execute(statement)
    else:
        for statement in _SQLITE_WITH_FEN:
            op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for statement in _pg_functions(False):
            op.execute(statement)
    else:
        for statement in _SQLITE_DROP:
            op.execute(statement)
    op.drop_index('ix_households_unpaid', table_name='households')
    op.drop_index('ix_households_overdue', table_name='households')
    op.create_index('ix_households_state_since', 'households', ['state', 'state_since'],
                    unique=False)
    op.drop_column('household_counts', 'fen')
    op.drop_column('households', 'frozen_fen')
    if not postgresql:
        for statement in _SQLITE_WITHOUT_FEN:
            op.execute(statement)
