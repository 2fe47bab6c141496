"""The alert queue's dismiss post read request.POST without a form: a NUL in the key
reached PostgreSQL as a DataError (a 500). It goes through a form now (#16)."""

import pytest
from django.urls import reverse

from dashboard.models import AlertDismissal

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "data",
    [
        {"key": "injection_due:1\x00"},
        {"key": "injection_due:1\x1b"},
        {"key": "injection_due:1", "note": "seen\x00"},
    ],
    ids=["nul-key", "escape-key", "nul-note"],
)
def test_dismiss_with_control_characters_stores_nothing(client, counselor, data):
    client.force_login(counselor)
    response = client.post(reverse("dashboard:dismiss"), data)
    assert response.status_code in (302, 400)
    assert not AlertDismissal.objects.exists()


def test_dismiss_with_an_overlong_key_stores_nothing(client, counselor):
    client.force_login(counselor)
    client.post(reverse("dashboard:dismiss"), {"key": "k" * 500})
    assert not AlertDismissal.objects.exists()


def test_dismiss_with_a_plain_key_is_stored(client, counselor):
    client.force_login(counselor)
    response = client.post(reverse("dashboard:dismiss"), {"key": "injection_due:7", "note": "ok"})
    assert response.status_code == 302
    assert AlertDismissal.objects.get().key == "injection_due:7"
