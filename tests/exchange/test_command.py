"""``manage.py export_fhir --patient MRN [--site CODE] [--output FILE]``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_fhir", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_writes_the_bundle_to_standard_output_and_audits_it(patient, other_patient):
    from fhir.resources.R4B.bundle import Bundle

    out, err = _call("--patient", patient.mrn)
    bundle = json.loads(out)
    Bundle.model_validate(bundle)
    mrns = [
        e["resource"]["identifier"][0]["value"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Patient"
    ]
    assert mrns == [patient.mrn] and other_patient.mrn not in out
    assert err == ""
    row = AuditEvent.objects.get(action="exchange.bundle_exported")
    assert (row.patient_id, row.actor_label) == (patient.pk, "manage.py export_fhir")
    assert row.detail == {"bundle": bundle["id"], "entries": len(bundle["entry"])}


def test_writes_the_bundle_to_a_file(patient, tmp_path):
    target = tmp_path / "robin.json"
    out, err = _call("--patient", patient.mrn, "--output", str(target))
    assert out == ""
    bundle = json.loads(target.read_text(encoding="utf-8"))
    assert (
        err.strip() == f"Wrote {len(bundle['entry'])} resources for MRN {patient.mrn} to {target}."
    )


@pytest.fixture
def same_mrn_elsewhere(patient):
    """Another organisation's patient with the same MRN (MRNs are unique per organisation)."""
    from core.models import Organization, Site
    from patients.models import Patient

    org = Organization.objects.create(name="Other Recovery Network")
    site = Site.objects.create(
        organization=org, name="Eastside", code="east", time_zone="America/Chicago"
    )
    return Patient.objects.create(
        organization=org,
        site=site,
        mrn=patient.mrn,
        legal_first_name="Alex",
        legal_last_name="Elsewhere",
        date_of_birth="1985-01-02",
        primary_substance="alcohol",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--patient", "NOPE-1"], "No patient with MRN 'NOPE-1'."),
        (["--patient", "TR000001", "--site", "west"], "No patient with MRN 'TR000001' at site"),
        (
            ["--patient", "TR000001"],
            "MRN 'TR000001' matches 2 patients (Other Recovery Network / east, "
            "Test Recovery Services / north); name the site with --site CODE.",
        ),
        (
            ["--patient", "TR000001", "--site", "north", "--output", "/no/such/dir/x.json"],
            "no such folder",
        ),
    ],
)
def test_errors_are_one_line_and_non_zero(patient, same_mrn_elsewhere, args, message):
    assert patient.mrn == "TR000001"
    with pytest.raises(CommandError) as exc:
        _call(*args)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value) and exc.value.returncode != 0
    assert not AuditEvent.objects.filter(action="exchange.bundle_exported").exists()


def test_the_site_picks_one_of_two_patients_with_the_same_mrn(patient, same_mrn_elsewhere):
    out, _ = _call("--patient", patient.mrn, "--site", "east")
    assert "Elsewhere" in out and "Owner" not in out


def test_a_missing_option_is_one_line_and_non_zero():
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "manage.py", "export_fhir"],
        cwd=root,
        env={**os.environ, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "export_fhir: the following arguments are required: --patient"
