"""Homework due dates outside any sane range are refused by the forms and the services
(#16: homework due 9999-12-31 was stored without complaint)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from recovery.forms import AssignForm
from recovery.models import HomeworkAssignment, HomeworkTemplate
from recovery.services.homework import homework_assign

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(site, counselor, test_now):
    return HomeworkTemplate.objects.create(
        site=site,
        title="Relapse triggers",
        instructions="List three.",
        created_by=counselor,
        created_at=test_now,
    )


def test_assign_form_refuses_a_due_date_of_9999_12_31(template):
    form = AssignForm(
        {"template": template.pk, "due_date": "9999-12-31"},
        templates=HomeworkTemplate.objects.all(),
    )
    assert not form.is_valid()
    assert "due_date" in form.errors


def test_homework_assign_refuses_a_due_date_of_9999_12_31(counselor, patient, template):
    with pytest.raises(ValidationError) as err:
        homework_assign(
            actor=counselor, patient=patient, template=template, due_date=date(9999, 12, 31)
        )
    assert "due_date" in err.value.message_dict
    assert not HomeworkAssignment.objects.exists()


def test_homework_due_more_than_a_year_ahead_is_refused(counselor, patient, template, today):
    with pytest.raises(ValidationError) as err:
        homework_assign(
            actor=counselor,
            patient=patient,
            template=template,
            due_date=today + timedelta(days=400),
        )
    assert "due_date" in err.value.message_dict
