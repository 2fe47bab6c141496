"""The data migration that takes sessions stored on dates outside 1900-2199 off the
schedule (#16)."""

import importlib
from datetime import UTC, date, datetime, timedelta

import pytest
from django.apps import apps

from core.models import AuditEvent
from scheduling.models import Session

pytestmark = pytest.mark.django_db
migration = importlib.import_module("scheduling.migrations.0006_mend_out_of_range_dates")


def test_a_session_booked_on_9999_12_31_is_taken_off_the_schedule(track, make_session, today):
    session = make_session(track, today + timedelta(days=7))
    Session.objects.filter(pk=session.pk).update(
        local_date=date(9999, 12, 31),
        starts_at=datetime(9999, 12, 31, 18, tzinfo=UTC),
        ends_at=datetime(9999, 12, 31, 19, tzinfo=UTC),
    )
    kept = make_session(track, today + timedelta(days=8))
    migration.mend(apps, None)
    assert Session.objects.get(pk=session.pk).status == "removed"
    assert Session.objects.get(pk=kept.pk).status == "scheduled"
    assert AuditEvent.objects.filter(action="data.date_mended", object_id=str(session.pk)).exists()
