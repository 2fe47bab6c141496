"""Mend dates outside 1900-2199 stored before forms and services bounded them (#16).

Safe values, chosen so nothing a page reads breaks and no consent widens:
- a date of birth: 1900-01-01, which reads as a slip to correct on the chart;
- a naloxone kit date, an expected end, a next injection due: cleared (nothing known);
- a consent's signature: the earliest of the day it was recorded, its expiry and its
  revocation (the constraints keep those after it); an expiry or a revocation: the
  signature day (an expired or revoked consent discloses nothing, as before);
- a medication order's start: the earliest of the day it was recorded, its stop and its
  next injection; its stop: its start (it stays stopped).
Each changed value prints a line and chains a ``data.date_mended`` audit row.
"""

from datetime import date

from django.db import migrations

from core.mending import DateMend, mend_dates
from core.validators import date_in_range

NAME = "patients.0004_mend_out_of_range_dates"


def _earliest(*days):
    return min((d for d in days if d is not None and date_in_range(d)), default=None)


MENDS = [
    DateMend(
        "patients.Patient",
        "date_of_birth",
        lambda p: date(1900, 1, 1),
        "date of birth out of range; correct it on the chart",
        patient="pk",
    ),
    DateMend("patients.Patient", "naloxone_kit_given_on", lambda p: None, "cleared", patient="pk"),
    DateMend("patients.Enrollment", "expected_end_date", lambda e: None, "cleared"),
    DateMend(
        "patients.Consent",
        "signed_on",
        lambda c: _earliest(c.created_at.date(), c.expires_on, c.revoked_on),
        "signature out of range; set to the day it was recorded",
        site="patient.site_id",
    ),
    DateMend(
        "patients.Consent",
        "expires_on",
        lambda c: c.signed_on,
        "expiry out of range; expired on its signature day",
        site="patient.site_id",
    ),
    DateMend(
        "patients.Consent",
        "revoked_on",
        lambda c: c.signed_on,
        "revocation out of range; revoked on its signature day",
        site="patient.site_id",
    ),
    DateMend(
        "patients.MedicationOrder",
        "start_date",
        lambda m: _earliest(m.created_at.date(), m.stop_date, m.next_injection_due),
        "start out of range; set to the day it was recorded",
        site="patient.site_id",
    ),
    DateMend(
        "patients.MedicationOrder",
        "stop_date",
        lambda m: m.start_date,
        "stop out of range; stopped on its start day",
        site="patient.site_id",
    ),
    DateMend(
        "patients.MedicationOrder",
        "next_injection_due",
        lambda m: None,
        "cleared",
        site="patient.site_id",
    ),
]


def mend(apps, schema_editor):
    mend_dates(apps, MENDS, migration=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_site_holidays_hours_clock"),
        ("patients", "0005_phone_e164_field"),
    ]

    operations = [migrations.RunPython(mend, migrations.RunPython.noop)]
