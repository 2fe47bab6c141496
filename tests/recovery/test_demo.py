from django.core.management import call_command

from core.clock import site_today
from recovery.models import HomeworkAssignment, HomeworkSubmission, Meeting, MeetingRequirement


def test_demo_has_meetings_and_homework_at_every_status_and_is_idempotent(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    call_command("seed_demo")
    assert {"pending", "verified", "rejected"} <= set(
        Meeting.objects.values_list("status", flat=True)
    )
    assert Meeting.objects.filter(status="rejected").count() == 1
    assert Meeting.objects.filter(sheet__isnull=False).exists()
    statuses = set(HomeworkAssignment.objects.values_list("status", flat=True))
    assert statuses == {"assigned", "submitted", "returned", "accepted"}
    # Overdue is derived: some open homework is past due.
    assert any(
        a.status_on(site_today(a.patient.site)) == "overdue"
        for a in HomeworkAssignment.objects.select_related("patient__site")
    )
    assert MeetingRequirement.objects.filter(phase__isnull=False).exists()
    counts = (Meeting.objects.count(), HomeworkSubmission.objects.count())
    call_command("seed_demo")
    assert (Meeting.objects.count(), HomeworkSubmission.objects.count()) == counts
