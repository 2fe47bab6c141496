"""On PostgreSQL the database itself refuses to change a completed administration or its
answers, as it refuses to change signed clinical content (records 0002): an instrument
sitting is a clinical measurement, corrected by a new sitting, never by an edit.

- ``measures_administration``: no UPDATE once ``completed_at`` is set, no DELETE ever;
- ``measures_answer``: no INSERT, UPDATE or DELETE once its administration is completed.

SQLite (the demo and the fallback tests) relies on the services and the admin."""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION measures_refuse_completed_change() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'measurements are never deleted (% on %)', TG_OP, TG_TABLE_NAME
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.completed_at IS NOT NULL AND to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN
    RAISE EXCEPTION 'a completed measurement never changes (% on %)', TG_OP, TG_TABLE_NAME
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION measures_refuse_answer_change() RETURNS trigger AS $$
DECLARE
  done boolean;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT completed_at IS NOT NULL INTO done FROM measures_administration
      WHERE id = OLD.administration_id;
    IF done THEN
      RAISE EXCEPTION 'a completed measurement never changes (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT completed_at IS NOT NULL INTO done FROM measures_administration
      WHERE id = NEW.administration_id;
    IF done THEN
      RAISE EXCEPTION 'a completed measurement never changes (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
"""

TRIGGERS = [
    "CREATE TRIGGER measures_administration_locked BEFORE UPDATE OR DELETE "
    "ON measures_administration FOR EACH ROW EXECUTE FUNCTION measures_refuse_completed_change();",
    "CREATE TRIGGER measures_answer_locked BEFORE INSERT OR UPDATE OR DELETE "
    "ON measures_answer FOR EACH ROW EXECUTE FUNCTION measures_refuse_answer_change();",
]
DROPS = [
    "DROP TRIGGER IF EXISTS measures_administration_locked ON measures_administration;",
    "DROP TRIGGER IF EXISTS measures_answer_locked ON measures_answer;",
    "DROP FUNCTION IF EXISTS measures_refuse_completed_change();",
    "DROP FUNCTION IF EXISTS measures_refuse_answer_change();",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in [FUNCTIONS, *TRIGGERS]:
        schema_editor.execute(sql, None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in DROPS:
        schema_editor.execute(sql, None)


class Migration(migrations.Migration):
    dependencies = [("measures", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
