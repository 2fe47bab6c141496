"""Recovery's panels appear on the shared pages for the right people."""

from django.urls import reverse

from recovery.services.homework import homework_assign, homework_submit
from tests.recovery.conftest import NOW


def test_staff_home_shows_queue_counts_to_a_counselor(client, counselor, patient, template):
    from datetime import date

    a = homework_assign(
        actor=counselor, patient=patient, template=template, due_date=date(2026, 12, 1), now=NOW
    )
    homework_submit(actor=patient.user, assignment=a, text="done", now=NOW)
    client.force_login(counselor)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="recovery-staff-panel"' in page
    assert "<strong>1</strong> homework submission waiting for review" in " ".join(page.split())


def test_staff_home_has_no_review_panel_for_front_desk(client, frontdesk):
    client.force_login(frontdesk)
    assert 'data-testid="recovery-staff-panel"' not in client.get(reverse("home")).content.decode()


def test_chart_shows_the_recovery_panel(client, counselor, patient):
    client.force_login(counselor)
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert 'data-testid="recovery-chart-panel"' in page


def test_portal_home_shows_meetings_and_homework(client, patient):
    client.force_login(patient.user)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="recovery-portal-panel"' in page
