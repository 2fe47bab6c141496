"""The demo clinic's group notes: signed ones at each site (the unlicensed counselor's
waiting for the director's co-signature, not co-signed), a draft, and idempotent."""

from __future__ import annotations

from records.models import GroupNote, ProgressNote, RecordStatus


def test_the_demo_has_signed_and_draft_group_notes_at_each_site(demo_clinic):
    signed = GroupNote.objects.filter(status=RecordStatus.SIGNED)
    assert {g.session.site.code for g in signed} == {"riverside", "bayview"}
    assert GroupNote.objects.filter(status=RecordStatus.DRAFT, migrated=False).exists()
    by_counselor = ProgressNote.objects.filter(author__username="counselor")
    assert by_counselor.exists()
    assert all(n.awaiting_cosign for n in by_counselor)  # left for the director
    assert not ProgressNote.objects.filter(
        author__username="counselor2", requires_cosign=True
    ).exists()


def test_seeding_the_demo_twice_writes_no_more_group_notes(demo_clinic):
    before, after, _ = demo_clinic.reseed()
    for label in ("records.GroupNote", "records.ProgressNote"):
        assert after[label] == before[label], label
