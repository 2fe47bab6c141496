"""On PostgreSQL the database refuses UPDATE and DELETE on the CM ledger: a reward
earned, reversed, handed out or reconciled is a new row, never an edit (auditors check
that nothing was lost and nothing given twice). SQLite relies on the services and the
read-only admin."""

from django.db import migrations

FORWARD = [
    r"""
CREATE OR REPLACE FUNCTION contingency_ledger_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the CM ledger is append-only (% refused on %)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;
""",
    "CREATE TRIGGER contingency_ledgerentry_append_only BEFORE UPDATE OR DELETE "
    "ON contingency_ledgerentry FOR EACH ROW EXECUTE FUNCTION contingency_ledger_append_only();",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS contingency_ledgerentry_append_only ON contingency_ledgerentry;",
    "DROP FUNCTION IF EXISTS contingency_ledger_append_only();",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FORWARD:
        schema_editor.execute(sql, None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql, None)


class Migration(migrations.Migration):
    dependencies = [("contingency", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
