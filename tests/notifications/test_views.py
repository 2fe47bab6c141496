"""Portal inbox and panel, staff outbox and resend: access rules, filters, query counts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from notifications.models import Channel, Notification, Status
from tests.conftest import PASSWORD

UTC = ZoneInfo("UTC")
pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def delivered(make_rows, patient, n, *, start=0, status=Status.SENT, channel=Channel.IN_APP):
    rows = make_rows(n, recipient=patient.user, patient=patient, channel=channel, start=start)
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=status,
        sent_at=timezone.now() if status == Status.SENT else None,
        body="Your next injection visit is due on Mon Jan 4.",
    )
    return rows


# --- portal ----------------------------------------------------------------------


def test_inbox_lists_only_my_delivered_notifications(client, patient, other_patient, make_rows):
    mine = delivered(make_rows, patient, 2)
    delivered(make_rows, patient, 1, start=50, status=Status.PENDING)
    delivered(make_rows, other_patient, 3, start=100)
    response = login(client, patient.user).get(reverse("notifications:inbox"))
    assert response.status_code == 200
    assert [n.pk for n in response.context["page"]] == sorted((r.pk for r in mine), reverse=True)
    assert response.context["unread"] == 2


def test_mark_one_read_touches_only_my_row(client, patient, other_patient, make_rows):
    (mine,) = delivered(make_rows, patient, 1)
    (theirs,) = delivered(make_rows, other_patient, 1, start=100)
    login(client, patient.user)
    client.post(reverse("notifications:inbox"), {"id": theirs.pk})
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    client.post(reverse("notifications:inbox"), {"id": mine.pk})
    assert Notification.objects.get(pk=mine.pk).read_at is not None


def test_mark_all_read(client, patient, make_rows):
    delivered(make_rows, patient, 3)
    login(client, patient.user).post(reverse("notifications:inbox"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_inbox_is_for_patients_only(client, counselor):
    assert login(client, counselor).get(reverse("notifications:inbox")).status_code == 403


@pytest.mark.parametrize("n", [1, 25])
def test_portal_home_panel_runs_two_queries_whatever_the_size(
    rf, patient, make_rows, n, django_assert_num_queries
):
    from notifications import panels

    delivered(make_rows, patient, n)
    request = rf.get("/")
    request.user = patient.user
    with django_assert_num_queries(2):
        panel = panels.portal_home(request, patient)
    assert panel.context["unread"] == n and len(panel.context["latest"]) == min(n, 3)


def test_portal_home_shows_the_unread_count(client, patient, make_rows):
    delivered(make_rows, patient, 4)
    body = login(client, patient.user).get(reverse("home")).content.decode()
    assert "4 unread" in body and reverse("notifications:inbox") in body


@pytest.mark.parametrize("n", [1, 30])
def test_inbox_query_count_is_fixed(client, patient, make_rows, n, django_assert_max_num_queries):
    delivered(make_rows, patient, n)
    login(client, patient.user)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("notifications:inbox")).status_code == 200


# --- staff outbox ----------------------------------------------------------------


def test_director_sees_every_row(client, director, patient, other_patient, make_rows):
    delivered(make_rows, patient, 2)
    delivered(make_rows, other_patient, 2, start=100)
    response = login(client, director).get(reverse("notifications:outbox"))
    assert response.status_code == 200 and len(response.context["page"]) == 4


def test_counselor_sees_own_caseload_only(
    client, counselor, other_counselor, outside_counselor, make_patient, make_rows
):
    own = make_patient(first="Own", portal=True)
    colleague = make_patient(first="Coll", portal=True, counselor_user=other_counselor)
    delivered(make_rows, own, 1)
    delivered(make_rows, colleague, 1, start=100)

    def seen(user):
        return {
            n.patient_id
            for n in login(client, user).get(reverse("notifications:outbox")).context["page"]
        }  # noqa: E731

    assert seen(counselor) == {own.pk}
    assert seen(other_counselor) == {colleague.pk}
    assert seen(outside_counselor) == set()


@pytest.mark.parametrize("role_fixture", ["frontdesk", "collector", "nurse"])
def test_outbox_is_for_director_and_counselors(client, role_fixture, request):
    user = request.getfixturevalue(role_fixture)
    assert login(client, user).get(reverse("notifications:outbox")).status_code == 403


def test_outbox_does_not_exist_for_a_patient(client, patient):
    assert login(client, patient.user).get(reverse("notifications:outbox")).status_code == 404


def test_outbox_filters_by_status_and_channel(client, director, patient, make_rows):
    delivered(make_rows, patient, 2)
    delivered(make_rows, patient, 3, start=10, status=Status.FAILED, channel=Channel.EMAIL)
    response = login(client, director).get(
        reverse("notifications:outbox"), {"status": "failed", "channel": "email"}
    )
    assert {n.status for n in response.context["page"]} == {"failed"} and len(
        response.context["page"]
    ) == 3


def test_outbox_bad_filter_is_a_form_error_not_a_500(client, director):
    response = login(client, director).get(
        reverse("notifications:outbox"), {"status": "nope", "due_from": "x"}
    )
    assert response.status_code == 200 and response.context["form"].errors


@pytest.mark.parametrize("n", [2, 60])
def test_outbox_query_count_is_fixed(
    client, director, patient, make_rows, n, django_assert_max_num_queries
):
    delivered(make_rows, patient, n)
    login(client, director)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("notifications:outbox")).status_code == 200


def test_resend_creates_a_new_row_and_keeps_history(client, counselor, patient, make_rows):
    (original,) = delivered(make_rows, patient, 1, status=Status.FAILED, channel=Channel.EMAIL)
    before = Notification.objects.values().get(pk=original.pk)
    response = login(client, counselor).post(reverse("notifications:resend", args=[original.pk]))
    assert response.status_code == 302
    again = Notification.objects.get(resend_of=original)
    assert (
        again.status == Status.PENDING
        and again.channel == Channel.EMAIL
        and again.created_by == counselor
    )
    assert Notification.objects.values().get(pk=original.pk) == before
    assert AuditEvent.objects.filter(action="notifications.resend", patient_id=patient.pk).exists()


def test_resend_of_another_sites_patient_is_404(client, outside_counselor, patient, make_rows):
    (original,) = delivered(make_rows, patient, 1)
    response = login(client, outside_counselor).post(
        reverse("notifications:resend", args=[original.pk])
    )
    assert response.status_code == 404
    assert not Notification.objects.filter(resend_of=original).exists()


def test_resend_of_a_pending_row_is_refused(client, director, patient, make_rows):
    (original,) = delivered(make_rows, patient, 1, status=Status.PENDING)
    login(client, director).post(reverse("notifications:resend", args=[original.pk]))
    assert not Notification.objects.filter(resend_of=original).exists()


def test_resend_needs_post(client, director, patient, make_rows):
    (original,) = delivered(make_rows, patient, 1)
    assert (
        login(client, director).get(reverse("notifications:resend", args=[original.pk])).status_code
        == 405
    )


@pytest.mark.parametrize("n", [1, 20])
def test_staff_home_panel_runs_two_queries_whatever_the_size(
    rf, counselor, patient, make_rows, n, django_assert_num_queries
):
    from notifications import panels

    rows = make_rows(n, recipient=counselor, patient=patient, channel=Channel.IN_APP)
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=Status.SENT, sent_at=timezone.now(), body="An item needs your attention."
    )
    request = rf.get("/")
    request.user = counselor
    with django_assert_num_queries(2):
        panel = panels.staff_home(request, sites=[])
    assert panel.context["unread"] == n


def test_staff_home_shows_my_alerts(client, counselor, patient, make_rows):
    (row,) = make_rows(1, recipient=counselor, patient=patient, channel=Channel.IN_APP)
    Notification.objects.filter(pk=row.pk).update(
        status=Status.SENT, sent_at=timezone.now(), body="An item needs your attention."
    )
    body = login(client, counselor).get(reverse("home")).content.decode()
    assert "My notifications" in body and reverse("patients:chart", args=[patient.pk]) in body


def test_resend_does_not_redirect_off_site(client, director, patient, make_rows):
    (original,) = delivered(make_rows, patient, 1)
    response = login(client, director).post(
        reverse("notifications:resend", args=[original.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("notifications:outbox")


def test_staff_mark_read_clears_only_my_alerts(
    client, counselor, other_counselor, patient, make_rows
):
    mine = make_rows(2, recipient=counselor, patient=patient, channel=Channel.IN_APP)
    theirs = make_rows(
        1, recipient=other_counselor, patient=patient, channel=Channel.IN_APP, start=10
    )
    Notification.objects.update(status=Status.SENT, sent_at=timezone.now())
    login(client, counselor).post(reverse("notifications:staff_mark_read"))
    assert not Notification.objects.filter(
        pk__in=[r.pk for r in mine], read_at__isnull=True
    ).exists()
    assert Notification.objects.get(pk=theirs[0].pk).read_at is None


def test_preferences_page_warns_when_no_phone_is_on_file(client, patient):
    body = login(client, patient.user).get(reverse("notifications:preferences")).content.decode()
    assert "no mobile number on file" in body


@pytest.mark.parametrize("value", ["-1", "999999", "2026-02-30", "\U0001f600"])
def test_resend_with_a_next_that_is_no_url_redirects_to_the_outbox(
    client, director, patient, make_rows, value
):
    (original,) = delivered(make_rows, patient, 1)
    response = login(client, director).post(
        reverse("notifications:resend", args=[original.pk]), {"next": value}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:outbox")
