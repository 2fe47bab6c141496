"""Consents say which sections of a compliance letter they cover (#19).

Consents recorded before this had only their free text ("Attendance and drug test
results"). Their sections are INFERRED here from the words of ``information_disclosed``
(``infer_sections``): a consent whose words name no section gets none, and staff tick what
it covers on a new consent. Nothing is guessed beyond the words: "compliance" alone names
no section. Each consent given sections this way gets an audit row saying so.

On PostgreSQL a CHECK refuses any code outside ConsentSection (the jsonb array must be
contained in the known codes); a new section needs a migration that widens it. SQLite (the
development database) relies on the form and the service.
"""

import re

from django.db import migrations, models

KNOWN = ["attendance", "drug_tests", "meetings", "status"]
# Section -> patterns read in the consent's words (lower case, whole words from the start).
WORDS = {
    "attendance": [r"\battend", r"\bhours?\b", r"\bsessions?\b", r"\bparticipat"],
    "drug_tests": [
        r"\bdrug",
        r"\btests?\b",
        r"\btesting\b",
        r"\burine",
        r"\btox",
        r"\buds\b",
        r"\bscreen",
        r"\bspecimen",
    ],
    "meetings": [r"\bmeetings?\b", r"\b12.step", r"\baa\b", r"\bna\b", r"\bsponsor"],
    "status": [
        r"\bstatus\b",
        r"\bphase",
        r"\benrol",
        r"\bdischarg",
        r"\blevel of care\b",
        r"\bprogress\b",
        r"\badmission",
    ],
}


def infer_sections(text):
    folded = " ".join((text or "").casefold().split())
    return [s for s in KNOWN if any(re.search(p, folded) for p in WORDS[s])]


def infer(apps, schema_editor):
    from core.audit import append

    Consent = apps.get_model("patients", "Consent")
    AuditEvent = apps.get_model("core", "AuditEvent")
    from django.utils import timezone

    for consent in Consent.objects.select_related("patient").order_by("pk").iterator():
        sections = infer_sections(consent.information_disclosed)
        if not sections:
            continue
        Consent.objects.filter(pk=consent.pk).update(sections=sections)
        append(
            AuditEvent,
            at=timezone.now(),
            actor=None,
            actor_label="",
            action="consent.sections_inferred",
            outcome="ok",
            patient_id=consent.patient_id,
            site_id=consent.patient.site_id,
            object_type="patients.Consent",
            object_id=str(consent.pk),
            ip=None,
            detail={"sections": sections, "from": "information_disclosed", "migration": "0008"},
        )


CHECK = (
    "ALTER TABLE patients_consent ADD CONSTRAINT consent_sections_known CHECK "
    "(jsonb_typeof(sections) = 'array' AND sections <@ '"
    + "[" + ",".join(f'"{k}"' for k in KNOWN) + "]"
    + "'::jsonb)"
)


def constrain(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CHECK, None)


def unconstrain(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE patients_consent DROP CONSTRAINT IF EXISTS consent_sections_known", None
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0011_site_letterhead"),
        ("patients", "0007_text_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="consent",
            name="sections",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="The sections of a compliance letter this consent covers.",
            ),
        ),
        migrations.RunPython(infer, migrations.RunPython.noop),
        migrations.RunPython(constrain, unconstrain),
    ]
