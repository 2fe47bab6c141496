"""The demo clinic's plans: written through the services, in every state the pages show,
and seeded once however often ``seed_demo`` runs."""

from __future__ import annotations

from records.models import PlanVersion, RecordStatus, Signature
from records.signing import verify_signature


def test_demo_has_plans_in_every_state(demo_clinic):
    versions = PlanVersion.objects.all()
    assert versions.filter(status=RecordStatus.DRAFT).count() == 1
    assert versions.filter(kind="review").exists()
    assert versions.filter(status=RecordStatus.SIGNED, requires_cosign=True).exists()
    assert not versions.filter(status=RecordStatus.COSIGNED).exists()  # left for the queue
    waiting = versions.filter(signed_at__isnull=False, patient_signed_at__isnull=True)
    assert waiting.filter(plan__patient__user__username="patient1").exists()


def test_demo_signatures_verify(demo_clinic):
    signatures = list(Signature.objects.filter(plan_version__isnull=False))
    assert signatures and all(verify_signature(s) for s in signatures)


def test_demo_plans_are_seeded_once(demo_clinic):
    before, after, _ = demo_clinic.reseed()
    assert after["records.TreatmentPlan"] == before["records.TreatmentPlan"]
