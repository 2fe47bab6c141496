"""Staff enter a whole instrument with the patient on one page: the sitting is marked as
entered with staff, by whom; an open sitting is reused; a safety answer raises the safety
event; a bad post is an error on the form, never a 500."""

import pytest
from django.urls import reverse

from measures.models import Administration, Answer, SafetyEvent
from measures.services.administrations import administration_create, instrument_current

pytestmark = pytest.mark.django_db


def _url(patient, code="phq9"):
    return reverse("measures:staff_entry", args=[patient.pk, code])


def _answers(values, language="en"):
    data = {"language": language}
    data.update({f"item_{n}": str(v) for n, v in values.items()})
    return data


PHQ9_ELEVEN = {1: 2, 2: 2, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 2, 9: 0}


def test_entry_page_lists_every_item_as_radios(client, counselor, patient):
    client.force_login(counselor)
    response = client.get(_url(patient))
    text = response.content.decode()
    assert response.status_code == 200
    for item in instrument_current("phq9").items.all():
        assert item.text_en in text
    # Ten questions (the PHQ-9 and its optional difficulty question), four answers each.
    assert text.count('type="radio"') == 10 * 4


def test_entry_page_reads_the_questions_in_spanish_on_request(client, counselor, patient):
    client.force_login(counselor)
    text = client.get(_url(patient) + "?lang=es").content.decode()
    assert instrument_current("phq9").items.get(number=1).text_es in text


def test_entry_completes_a_sitting_marked_as_entered_with_staff(client, counselor, patient):
    client.force_login(counselor)
    response = client.post(_url(patient), _answers(PHQ9_ELEVEN))
    done = Administration.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("measures:administration", args=[done.pk])
    assert done.status == Administration.Status.COMPLETED
    assert done.mode == Administration.Mode.WITH_STAFF
    assert done.entered_by == counselor
    assert done.reason == Administration.Reason.AD_HOC
    assert done.total == 11
    assert done.band == "Moderate"
    assert Answer.objects.filter(administration=done).count() == 9


def test_entry_reuses_the_open_sitting(client, counselor, patient, today):
    due = administration_create(
        actor=None,
        patient=patient,
        instrument=instrument_current("phq9"),
        reason=Administration.Reason.SCHEDULED,
        due_on=today,
    )
    client.force_login(counselor)
    client.post(_url(patient), _answers(PHQ9_ELEVEN))
    assert Administration.objects.filter(patient=patient).count() == 1
    due.refresh_from_db()
    assert due.status == Administration.Status.COMPLETED
    assert due.reason == Administration.Reason.SCHEDULED
    assert due.mode == Administration.Mode.WITH_STAFF


def test_entry_with_item_9_raises_the_safety_event_and_says_so(client, counselor, patient):
    client.force_login(counselor)
    response = client.post(_url(patient), _answers({**PHQ9_ELEVEN, 9: 1}), follow=True)
    event = SafetyEvent.objects.get(patient=patient)
    assert event.item_number == 9 and event.value == 1
    text = response.content.decode()
    assert 'data-testid="safety-event"' in text
    assert "safety follow-up" in text


def test_entry_missing_an_answer_shows_the_error_on_the_form(client, counselor, patient):
    client.force_login(counselor)
    partial = dict(PHQ9_ELEVEN)
    del partial[4]
    response = client.post(_url(patient), _answers(partial))
    assert response.status_code == 422
    assert "Choose an answer to this question." in response.content.decode()
    assert not Administration.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("bad", ["7", "-1", "x", "1e9", "\x00"])
def test_entry_refuses_a_value_not_among_the_options(client, counselor, patient, bad):
    client.force_login(counselor)
    data = _answers(PHQ9_ELEVEN)
    data["item_3"] = bad
    response = client.post(_url(patient), data)
    assert response.status_code == 422
    assert not Administration.objects.filter(patient=patient).exists()


def test_entry_of_an_unknown_instrument_is_404(client, counselor, patient):
    client.force_login(counselor)
    assert client.get(_url(patient, "nope")).status_code == 404


@pytest.mark.parametrize("who", ["other_counselor", "outside_counselor"])
def test_entry_for_a_patient_not_seen_is_404(client, request, patient, who):
    client.force_login(request.getfixturevalue(who))
    response = client.post(_url(patient), _answers(PHQ9_ELEVEN))
    assert response.status_code == 404
    assert not Administration.objects.filter(patient=patient).exists()


def test_entry_refused_to_front_desk(client, frontdesk, patient):
    client.force_login(frontdesk)
    assert client.post(_url(patient), _answers(PHQ9_ELEVEN)).status_code == 403
    assert not Administration.objects.filter(patient=patient).exists()
