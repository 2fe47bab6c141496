"""The stored copy of a sent reminder fits its columns, however long the text was."""

import pytest

from core import limits
from notifications import sending
from notifications.models import Notification, Status

pytestmark = pytest.mark.django_db


def test_an_over_long_sent_text_is_stored_clipped(patient_email, make_rows):
    (row,) = make_rows(1, recipient=patient_email.user, patient=patient_email)
    Notification.objects.filter(pk=row.pk).update(status=Status.SENDING, claim_token="t")
    sending._mark_sent(row.pk, "t", subject="s" * 500, body="b" * (limits.MESSAGE + 5))
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert len(row.body) == limits.MESSAGE and row.body.endswith("…")
    assert len(row.subject) == sending.SUBJECT_MAX
