"""The demo clinic's notes: every state the pages show, and a second seed adds nothing."""

from __future__ import annotations

from core.clock import site_today
from records.models import Addendum, ProgressNote


def test_demo_has_notes_in_every_state(demo_clinic):
    notes = ProgressNote.objects.exclude(kind="group").select_related("author", "site")
    by = {(n.author.username, n.status, n.requires_cosign, n.kind) for n in notes}
    assert ("counselor2", "signed", False, "individual") in by
    assert ("counselor2", "signed", False, "family") in by
    assert ("counselor", "signed", True, "individual") in by  # waiting for a co-signature
    assert ("nurse", "signed", False, "mat") in by
    assert not notes.filter(status="cosigned").exists()
    drafts = [n for n in notes if n.status == "draft"]
    assert len(drafts) == 2
    assert any(site_today(n.site) > n.due_on for n in drafts)  # one overdue
    assert notes.filter(is_late=True).count() == 1
    assert Addendum.objects.filter(note__isnull=False).count() == 1


def test_a_second_seed_adds_no_notes(demo_clinic):
    before, after, _ = demo_clinic.reseed()
    assert after["records.ProgressNote"] == before["records.ProgressNote"]
