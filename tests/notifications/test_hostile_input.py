"""The portal inbox's mark-read post: an id that is not a number marks nothing (#16)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Channel, Notification, Status
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def unread(make_rows, patient):
    rows = make_rows(3, recipient=patient.user, patient=patient, channel=Channel.IN_APP)
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=Status.SENT, sent_at=timezone.now()
    )
    return rows


@pytest.mark.parametrize("bad", ["abc", "-1", "1\x00", "1 OR 1=1", "١"])
def test_a_non_numeric_id_marks_nothing_read(client, patient, unread, bad):
    assert client.login(username=patient.user.username, password=PASSWORD)
    response = client.post(reverse("notifications:inbox"), {"id": bad})
    assert response.status_code in (302, 400)
    assert Notification.objects.filter(read_at__isnull=True).count() == 3


def test_mark_all_is_an_explicit_request(client, patient, unread):
    assert client.login(username=patient.user.username, password=PASSWORD)
    client.post(reverse("notifications:inbox"), {"all": "1"})
    assert not Notification.objects.filter(read_at__isnull=True).exists()
