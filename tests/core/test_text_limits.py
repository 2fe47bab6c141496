"""Free text has a maximum length everywhere: one table (core.limits), a constraint per
field in the database, the form field's maxlength with a counter, and the mending of rows
stored before the limits existed."""

import pytest
from django import forms
from django.apps import apps
from django.db import models

from core import limits
from core.forms import CountedTextarea, text_field
from core.mend_text import mend_overlong_text
from core.models import AuditEvent

OUR_APPS = {
    "core",
    "patients",
    "scheduling",
    "drugtests",
    "recovery",
    "notifications",
    "privacy",
    "dashboard",
    "reports",
}
TABLE = {
    limits.ADDRESS,
    limits.REASON,
    limits.NOTE,
    limits.INSTRUCTIONS,
    limits.HOMEWORK_ANSWER,
    limits.MESSAGE,
}


def _text_fields():
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.TextField):
                yield model, field


def test_every_text_field_has_a_limit_from_the_table():
    missing = [f"{m._meta.label}.{f.name}" for m, f in _text_fields() if f.max_length not in TABLE]
    assert missing == []


def test_every_text_field_has_a_database_constraint_on_its_length():
    missing = []
    for model, field in _text_fields():
        name = f"{model._meta.app_label}_{model._meta.model_name}_{field.name}_max_len"
        names = {c.name for c in model._meta.constraints}
        if name not in names:
            missing.append(f"{model._meta.label}.{field.name}")
    assert missing == []


def test_the_inventory_finds_the_fields_of_the_issue():
    found = {f"{m._meta.label}.{f.name}" for m, f in _text_fields()}
    assert {"recovery.HomeworkSubmission.text", "patients.Patient.safety_notes"} <= found


class _NoteForm(forms.Form):
    note = text_field(limits.NOTE, label="Note", required=False)


def test_the_counter_renders_with_maxlength_and_a_polite_live_region():
    html = str(_NoteForm()["note"])
    assert '<textarea name="note"' in html
    assert 'maxlength="10000"' in html
    assert 'data-counter-for="id_note"' in html
    assert 'aria-live="polite"' in html
    # Shown only near the limit: the last tenth.
    assert 'data-counter-near="1000"' in html


def test_a_text_field_refuses_one_character_too_many_with_the_limit_in_the_message():
    form = _NoteForm(data={"note": "n" * (limits.NOTE + 1)})
    assert not form.is_valid()
    assert "at most 10000 characters" in str(form.errors["note"])


def test_cr_lf_from_the_browser_is_one_character():
    widget = CountedTextarea()
    assert widget.value_from_datadict({"n": "a\r\nb\rc"}, {}, "n") == "a\nb\nc"


def test_clip_keeps_text_within_the_limit_and_says_it_was_cut():
    clipped = limits.clip("z" * 50, 20)
    assert len(clipped) == 20 and clipped.endswith("…")
    assert limits.clip("short", 20) == "short"


@pytest.mark.django_db
def test_mending_leaves_rows_within_the_limit_alone(patient):
    before = AuditEvent.objects.count()
    assert mend_overlong_text(apps, "patients") == 0
    assert AuditEvent.objects.count() == before
