"""The demo clinic's notes: every state the pages show, and a second seed adds nothing."""

from __future__ import annotations

from django.core.management import call_command

from core.clock import site_today
from records.models import Addendum, ProgressNote


def test_demo_has_notes_in_every_state_and_is_idempotent(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    call_command("seed_demo")
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
    count = ProgressNote.objects.count()
    call_command("seed_demo")
    assert ProgressNote.objects.count() == count
