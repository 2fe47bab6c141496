"""The demo's scores: months of PHQ-9 and GAD-7 (most improving), weekly BAM in IOP,
exactly one open safety event (the portal patient's latest PHQ-9), check-ins due today
for the portal patient; a second seed adds nothing."""

from __future__ import annotations

from core.clock import site_today
from measures.models import Administration, SafetyEvent
from measures.scoring import reliable_change


def test_demo_has_scores_one_safety_event_and_due_check_ins(demo_clinic):
    completed = Administration.objects.filter(status="completed").select_related(
        "instrument", "patient__site"
    )
    by_patient: dict[tuple[int, str], list[Administration]] = {}
    for a in completed.order_by("due_on", "pk"):
        by_patient.setdefault((a.patient_id, a.instrument.code), []).append(a)
    phq9 = {pid: rows for (pid, code), rows in by_patient.items() if code == "phq9"}
    assert len(phq9) >= 4
    improved = [
        rows
        for rows in phq9.values()
        if len(rows) > 1
        and reliable_change(rows[0].instrument.scoring, rows[0].total, rows[-1].total) == "improved"
    ]
    assert len(improved) >= 2
    bam = [rows for (_, code), rows in by_patient.items() if code == "bam"]
    assert bam and all(
        (b.due_on - a.due_on).days == 7
        for rows in bam
        for a, b in zip(rows, rows[1:], strict=False)
    )

    [event] = SafetyEvent.objects.filter(followup_at__isnull=True).select_related("patient__user")
    assert event.patient.user.username == "patient1"
    latest = phq9[event.patient_id][-1]
    assert event.administration_id == latest.pk and event.value == 1

    patient1 = event.patient
    due = Administration.objects.filter(patient=patient1, status="due")
    assert due.filter(due_on=site_today(patient1.site)).exists()


def test_demo_scores_are_seeded_once(demo_clinic):
    before, after, _ = demo_clinic.reseed()
    for model in ("measures.Administration", "measures.Answer", "measures.SafetyEvent"):
        assert after[model] == before[model], model
