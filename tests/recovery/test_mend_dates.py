"""The data migration that mends stored recovery dates outside 1900-2199 (#16)."""

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps

from recovery.models import HomeworkAssignment, HomeworkTemplate
from recovery.services.homework import homework_assign

pytestmark = pytest.mark.django_db
migration = importlib.import_module("recovery.migrations.0005_mend_out_of_range_dates")


def test_homework_due_in_9999_is_due_a_week_after_it_was_assigned(
    patient, counselor, site, today, test_now, capsys
):
    template = HomeworkTemplate.objects.create(
        site=site,
        title="Triggers",
        instructions="List three.",
        created_by=counselor,
        created_at=test_now,
    )
    work = homework_assign(
        actor=counselor, patient=patient, template=template, due_date=today + timedelta(days=3)
    )
    HomeworkAssignment.objects.filter(pk=work.pk).update(due_date=date(9999, 12, 31))
    migration.mend(apps, None)
    mended = HomeworkAssignment.objects.get(pk=work.pk)
    assert mended.due_date == (mended.assigned_at + timedelta(days=7)).date()
    assert "recovery.HomeworkAssignment" in capsys.readouterr().out
