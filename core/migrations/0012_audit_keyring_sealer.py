"""The audit trail without a global lock (issue 20).

Rows are appended with their own MAC (``row_mac``) under a named key (``key_id``) of the
AUDIT_KEYS keyring, and chained later by one sealer, which sets ``seq``, ``prev_hash``
and ``hash``. Existing rows were chained as they were written, under the single key of
the time: they get the key id ``legacy`` (a column default, so the append-only trigger
sees no UPDATE) and keep their chain. The trigger now lets through exactly one UPDATE
per row: the seal, setting the three seal columns from NULL, nothing else changed.
"""

from django.db import migrations, models

TRIGGER = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
DECLARE
    unsealed core_auditevent;  -- the row type of the table
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
       AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL THEN
        unsealed := NEW;
        unsealed.seq := NULL;
        unsealed.prev_hash := NULL;
        unsealed.hash := NULL;
        IF unsealed IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'core_auditevent is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
"""
# 0003's function: no UPDATE at all.
OLD_TRIGGER = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'core_auditevent is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("core", "0011_site_letterhead")]

    operations = [
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["-id"]}),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(default="legacy", max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="row_mac",
            field=models.CharField(blank=True, max_length=64, default=""),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("seq", None)), fields=["id"], name="audit_unsealed"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("hash", None), ("prev_hash", None), ("seq", None)),
                    models.Q(("hash__isnull", False), ("prev_hash__isnull", False), ("seq__gt", 0)),
                    _connector="OR",
                ),
                name="audit_seal_all_or_nothing",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("key_id", ""), _negated=True), name="audit_key_id_set"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("row_mac", ""), _negated=True),
                    models.Q(("key_id", "legacy"), ("seq__isnull", False)),
                    _connector="OR",
                ),
                name="audit_row_mac_set",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
