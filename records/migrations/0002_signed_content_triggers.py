"""On PostgreSQL the database itself refuses to change signed clinical content, as it
refuses to change the audit trail (core 0003) and finalised draws (drugtests 0002):

- a signed plan version, note or group note: no UPDATE of anything but the columns the
  lifecycle still moves after signing (status and the co-signature; a plan's patient
  signature time), and no DELETE ever (records are never hard-deleted);
- a part of a signed version or note (problems, goals, objectives, interventions, the
  objectives a note addressed, a group note's per-attendee parts): no INSERT, UPDATE or
  DELETE once its parent is signed;
- signatures and addenda: append-only.

SQLite (the demo and the fallback tests) relies on the services and the admin."""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION records_refuse_signed_change() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'clinical records are never deleted (% on %)', TG_OP, TG_TABLE_NAME
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  -- Columns the lifecycle may still move after signing are named in TG_ARGV.
  IF OLD.signed_at IS NOT NULL
     AND (to_jsonb(NEW) - TG_ARGV) IS DISTINCT FROM (to_jsonb(OLD) - TG_ARGV) THEN
    RAISE EXCEPTION 'signed content never changes (% on %); add an addendum instead',
      TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

-- TG_ARGV[0]: the parent table; TG_ARGV[1]: this table's column naming the parent row.
CREATE OR REPLACE FUNCTION records_refuse_part_change() RETURNS trigger AS $$
DECLARE
  parent_signed boolean;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    EXECUTE format('SELECT signed_at IS NOT NULL FROM %I WHERE id = $1', TG_ARGV[0])
      INTO parent_signed USING (to_jsonb(OLD) ->> TG_ARGV[1])::bigint;
    IF parent_signed THEN
      RAISE EXCEPTION 'signed content never changes (% on %); add an addendum instead',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    EXECUTE format('SELECT signed_at IS NOT NULL FROM %I WHERE id = $1', TG_ARGV[0])
      INTO parent_signed USING (to_jsonb(NEW) ->> TG_ARGV[1])::bigint;
    IF parent_signed THEN
      RAISE EXCEPTION 'signed content never changes (% on %); add an addendum instead',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION records_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% rows are append-only (% refused)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;
"""

# (table, columns that may change after signing)
SIGNED = [
    ("records_planversion", ["status", "cosigned_at", "cosigned_by_id", "patient_signed_at"]),
    ("records_progressnote", ["status", "cosigned_at", "cosigned_by_id"]),
    ("records_groupnote", ["status"]),
]
# (table, parent table, column naming the parent)
PARTS = [
    ("records_planproblem", "records_planversion", "version_id"),
    ("records_plangoal", "records_planversion", "version_id"),
    ("records_planobjective", "records_planversion", "version_id"),
    ("records_planintervention", "records_planversion", "version_id"),
    ("records_noteobjective", "records_progressnote", "note_id"),
    ("records_groupnoteentry", "records_groupnote", "group_note_id"),
]
APPEND_ONLY = ["records_signature", "records_addendum"]


def _triggers() -> list[str]:
    sql = []
    for table, mutable in SIGNED:
        args = ", ".join(f"'{c}'" for c in mutable)
        sql.append(
            f"CREATE TRIGGER {table}_signed_locked BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION records_refuse_signed_change({args});"
        )
    for table, parent, column in PARTS:
        sql.append(
            f"CREATE TRIGGER {table}_signed_locked BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION records_refuse_part_change('{parent}', '{column}');"
        )
    for table in APPEND_ONLY:
        sql.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION records_append_only();"
        )
    return sql


def _drops() -> list[str]:
    tables = [t for t, _ in SIGNED] + [t for t, _, _ in PARTS]
    sql = [f"DROP TRIGGER IF EXISTS {t}_signed_locked ON {t};" for t in tables]
    sql += [f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};" for t in APPEND_ONLY]
    sql += [
        "DROP FUNCTION IF EXISTS records_refuse_signed_change();",
        "DROP FUNCTION IF EXISTS records_refuse_part_change();",
        "DROP FUNCTION IF EXISTS records_append_only();",
    ]
    return sql


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in [FUNCTIONS, *_triggers()]:
        schema_editor.execute(sql, None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in _drops():
        schema_editor.execute(sql, None)


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
