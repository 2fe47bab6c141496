"""On PostgreSQL, the database itself refuses to change or delete a finalised draw or a
pool row (the only update a draw ever gets is its finalisation, in the same transaction
that created it). Anyone who disables the triggers is still caught by ``verify_draws``."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION drugtests_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'drug-test draws are immutable (% on %); record a correction instead',
    TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION drugtests_draw_finalise_only() RETURNS trigger AS $$
BEGIN
  -- The one update a draw ever gets: committed -> final, adding seed, result and hash.
  IF TG_OP = 'UPDATE' AND OLD.status = 'committed' AND NEW.status = 'final'
     AND OLD.id = NEW.id AND OLD.site_id = NEW.site_id AND OLD.date = NEW.date
     AND OLD.seq = NEW.seq AND OLD.trigger = NEW.trigger
     AND OLD.created_at = NEW.created_at
     AND OLD.created_by_id IS NOT DISTINCT FROM NEW.created_by_id
     AND OLD.seed_commitment = NEW.seed_commitment AND OLD.pool_hash = NEW.pool_hash
     AND OLD.pool_size = NEW.pool_size AND OLD.prev_hash = NEW.prev_hash THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'drug-test draws are immutable (% on %); record a correction instead',
    TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;
"""
TRIGGERS = [
    "CREATE TRIGGER drugtests_draw_immutable BEFORE UPDATE OR DELETE ON drugtests_draw "
    "FOR EACH ROW EXECUTE FUNCTION drugtests_draw_finalise_only();",
    "CREATE TRIGGER drugtests_pool_immutable BEFORE UPDATE OR DELETE ON drugtests_drawpoolentry "
    "FOR EACH ROW EXECUTE FUNCTION drugtests_refuse_change();",
]
DROP = [
    "DROP TRIGGER IF EXISTS drugtests_draw_immutable ON drugtests_draw;",
    "DROP TRIGGER IF EXISTS drugtests_pool_immutable ON drugtests_drawpoolentry;",
    "DROP FUNCTION IF EXISTS drugtests_refuse_change();",
    "DROP FUNCTION IF EXISTS drugtests_draw_finalise_only();",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite (demo, fallback tests): the model and verify_draws guard it
    for sql in [FUNCTION, *TRIGGERS]:
        schema_editor.execute(sql, None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in DROP:
        schema_editor.execute(sql, None)


class Migration(migrations.Migration):
    dependencies = [("drugtests", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
