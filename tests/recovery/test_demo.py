from core.clock import site_today
from recovery.models import HomeworkAssignment, Meeting, MeetingRequirement


def test_demo_has_meetings_and_homework_at_every_status(demo_clinic):
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


def test_a_second_seed_adds_no_meetings_or_homework(demo_clinic):
    before, after, _ = demo_clinic.reseed()
    for label in ("recovery.Meeting", "recovery.HomeworkSubmission"):
        assert after[label] == before[label], label
