"""household counts kept by statement-level triggers on PostgreSQL

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 22:50:00

Migration 0002's row-level trigger upserts a household_counts row for every case a statement
moves.  A payout batch moves 20,000 cases from confirmed to rostered in a few UPDATE
statements, and PostgreSQL then rewrites the same few counter rows tens of thousands of times
in one transaction (each rewrite leaves a dead version the next one must step over): 26 s for
20,000 cases of one village.  These triggers see the whole statement at once (transition
tables) and apply one net change per counter row, in key order, so concurrent statements
lock counter rows in the same order.

SQLite has no statement-level triggers; its row-level triggers from 0002 stay (SQLite updates
in place, without the dead versions, and is fast there).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

KEY = "village_id, programme_year, conversion_type, state"


def _apply(parts: str) -> str:
    """One upsert of the net change per counter key, from the transition table(s)."""
    return f"""
        INSERT INTO household_counts ({KEY}, township_id, county_id, n)
        SELECT {KEY}, max(township_id), max(county_id), sum(delta)
          FROM ({parts}) AS moved
         GROUP BY {KEY}
        HAVING sum(delta) <> 0
         ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET n = household_counts.n + EXCLUDED.n"""


_OLD = f"SELECT {KEY}, township_id, county_id, -1 AS delta FROM old_rows"
_NEW = f"SELECT {KEY}, township_id, county_id, 1 AS delta FROM new_rows"

STATEMENT_TRIGGERS = [
    f"""CREATE FUNCTION household_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_apply(_NEW)}; RETURN NULL; END $$""",
    f"""CREATE FUNCTION household_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_apply(_OLD + " UNION ALL " + _NEW)}; RETURN NULL; END $$""",
    f"""CREATE FUNCTION household_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_apply(_OLD)}; RETURN NULL; END $$""",
    """CREATE TRIGGER household_counts_insert AFTER INSERT ON households
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION household_counts_after_insert()""",
    """CREATE TRIGGER household_counts_update AFTER UPDATE ON households
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION household_counts_after_update()""",
    """CREATE TRIGGER household_counts_delete AFTER DELETE ON households
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION household_counts_after_delete()""",
]
DROP_STATEMENT_TRIGGERS = [
    "DROP TRIGGER household_counts_insert ON households",
    "DROP TRIGGER household_counts_update ON households",
    "DROP TRIGGER household_counts_delete ON households",
    "DROP FUNCTION household_counts_after_insert()",
    "DROP FUNCTION household_counts_after_update()",
    "DROP FUNCTION household_counts_after_delete()",
]
# 0002's row-level trigger, dropped here and restored by the downgrade
ROW_TRIGGER = """CREATE TRIGGER household_counts_sync AFTER INSERT OR UPDATE OR DELETE
    ON households FOR EACH ROW EXECUTE FUNCTION household_counts_sync()"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER household_counts_sync ON households")
    for statement in STATEMENT_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DROP_STATEMENT_TRIGGERS:
        op.execute(statement)
    op.execute(ROW_TRIGGER)
