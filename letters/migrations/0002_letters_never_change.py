"""On PostgreSQL the database refuses UPDATE and DELETE on letters: a letter is the exact
PDF that was sent, and a reprint is that file (its hash checked), so it can neither change
nor go. A batch's row is written once too, apart from its list of skipped patients, filled
in the same transaction before the batch is shown to anyone; it is never deleted. SQLite
relies on the services and the read-only admin."""

from django.db import migrations

FORWARD = [
    r"""
CREATE OR REPLACE FUNCTION letters_never_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'letters are kept as sent (% refused on %)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;
""",
    "CREATE TRIGGER letters_letter_never_change BEFORE UPDATE OR DELETE "
    "ON letters_letter FOR EACH ROW EXECUTE FUNCTION letters_never_change();",
    "CREATE TRIGGER letters_letterbatch_never_deleted BEFORE DELETE "
    "ON letters_letterbatch FOR EACH ROW EXECUTE FUNCTION letters_never_change();",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS letters_letterbatch_never_deleted ON letters_letterbatch;",
    "DROP TRIGGER IF EXISTS letters_letter_never_change ON letters_letter;",
    "DROP FUNCTION IF EXISTS letters_never_change();",
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
    dependencies = [("letters", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
